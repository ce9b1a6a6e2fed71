/**
 * The plumbing shared by the loopback fronts put before the gateway in browser tests
 * (test/support/tls-front.ts, test/support/cookie-refusing-front.ts): listen on 127.0.0.1:0,
 * forward once the gateway's port is known, end both sides of a relayed connection together,
 * and destroy every socket on close. Use one of those fronts; this file only serves them.
 */
import type net from 'node:net';

export interface LoopbackFront {
  /** The loopback port browsers connect to. */
  port: number;
  /** Where the forwarded bytes go (set once the gateway listens). */
  forwardTo(port: number): void;
  close(): Promise<void>;
}

export interface FrontPlumbing {
  /** The gateway's port, or undefined before `forwardTo` (connections are then refused). */
  target(): number | undefined;
  /** Destroyed on close (every accepted connection is tracked already). */
  track(s: net.Socket): void;
}

/** Builds the server with `make`, listens on 127.0.0.1:0 and returns the front. */
export async function startFront(make: (p: FrontPlumbing) => net.Server): Promise<LoopbackFront> {
  let target: number | undefined;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server = make({ target: () => target, track });
  server.on('connection', track);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    forwardTo(port) {
      target = port;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** When either side of a relayed connection fails or closes, both are destroyed. */
export function endTogether(a: net.Socket, b: net.Socket): void {
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.once('error', end);
  b.once('error', end);
  a.once('close', end);
  b.once('close', end);
}
