/** A WebSocket client for the security tests that asks a preview host for an upgrade and reports the echo or the refusal (the clock is test/support/clock.ts). */
import WebSocket from 'ws';

export type WsOutcome = { opened: true; echo: string } | { opened: false; status: number; body: string };

/** Opens ws://127.0.0.1:{port}{path} with the preview Host, sends "ping", waits for the echo or the refusal. */
export function tryWebSocket(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host, ...headers } });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('websocket: no answer in 5 s'));
    }, 5000);
    ws.on('open', () => ws.send('ping'));
    ws.on('message', (data) => {
      clearTimeout(timer);
      ws.close();
      resolve({ opened: true, echo: data.toString() });
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ opened: false, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
