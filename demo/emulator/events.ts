/**
 * The Socket.IO endpoint the SDK opens by default (docs/daytona.md, "The SDK's real-time
 * socket"): `<apiUrl>/socket.io/`, WebSocket transport only, the API key (or JWT) in the
 * handshake's `auth.token`. The SDK's Sandbox objects listen for `sandbox.state.updated`
 * (payload `{sandbox, oldState, newState}`) and `sandbox.created` (the Sandbox JSON), and resolve
 * `create()`, `start()`, `stop()` on the event instead of polling once a second.
 *
 * One organization here, so every authenticated socket gets every event.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { SandboxRecord, SandboxState } from './sandboxes.js';

export const SOCKET_PATH = '/api/socket.io/';

export interface EventHub {
  stateChanged(record: SandboxRecord, oldState: SandboxState, json: Record<string, unknown>): void;
  created(json: Record<string, unknown>): void;
  /** Live authenticated connections. */
  readonly connections: number;
  close(): Promise<void>;
}

export function attachEvents(server: HttpServer, apiKey: string): EventHub {
  const io = new Server(server, {
    path: SOCKET_PATH,
    transports: ['websocket'],
    serveClient: false,
    // The emulator's own upgrade handler answers every other path: never destroy those sockets.
    destroyUpgrade: false,
    cors: { origin: false },
  });
  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (token === apiKey) return next();
    next(new Error('unauthorized: invalid API key'));
  });
  return {
    stateChanged(record, oldState, json) {
      io.emit('sandbox.state.updated', { sandbox: json, oldState, newState: record.state });
    },
    created(json) {
      io.emit('sandbox.created', json);
    },
    get connections() {
      return io.engine.clientsCount;
    },
    async close() {
      io.disconnectSockets(true);
      // io.close() would close the HTTP server too; the emulator closes it itself.
      io.engine.close();
    },
  };
}
