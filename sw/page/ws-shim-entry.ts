/**
 * /__gate/ws.js: installs the WebSocket wrapper of ws-shim.ts on `window.WebSocket`. The
 * Service Worker adds this script at the top of `<head>` of the app's HTML only on the
 * cookie-less path ("worker-only"), so it runs before any script of the app.
 */
import { GATE_PATHS } from '../../protocol/index.js';
import { createGateWebSocket } from './ws-shim.js';
import { siblingPortOf } from '../worker/sibling-origins.js';

const MARK = Symbol.for('preview-gate.ws-shim');
const w = window as unknown as Record<symbol, unknown> & { WebSocket: typeof WebSocket };

if (!w[MARK] && typeof w.WebSocket === 'function') {
  const nativeFetch = window.fetch.bind(window);
  const GateWebSocket = createGateWebSocket({
    Native: w.WebSocket,
    location: window.location,
    siblingPort: (u) => siblingPortOf(u, window.location),
    async fetchTicket(port?: number) {
      // Same-origin POST: the worker attaches the access token (sw/worker/attach-token.ts); a
      // sibling's ticket is asked here too (`?port=`), for a port of this preview's grant only.
      const path = port === undefined ? GATE_PATHS.wsTicket : `${GATE_PATHS.wsTicket}?port=${port}`;
      const res = await nativeFetch(path, { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
      if (!res.ok) return null;
      const body = (await res.json().catch(() => null)) as { ticket?: unknown } | null;
      return typeof body?.ticket === 'string' ? body.ticket : null;
    },
  });
  Object.defineProperty(window, 'WebSocket', { value: GateWebSocket, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(window, MARK, { value: true });
}
