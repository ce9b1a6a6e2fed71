/**
 * A round-robin TCP load balancer for the multi-instance tests, the least a real one does: each
 * new client connection goes to the next backend in turn; a backend that refuses the connection
 * is skipped (the next one is tried, as nginx's `proxy_next_upstream error` or HAProxy's
 * `redispatch` do) and the client never sees the refusal. Bytes are piped untouched, so
 * HTTP keep-alive and WebSocket upgrades pass as they are; no stickiness of any kind.
 *
 * @example
 * const lb = await startBalancer([gwA.port, gwB.port]);
 * await fetch(`http://127.0.0.1:${lb.port}/healthz`);
 * lb.connections; // [n to A, n to B]
 * await lb.close();
 */
import net, { type AddressInfo, type Socket } from 'node:net';

export interface Balancer {
  port: number;
  /** Backend ports, in turn order; replace an entry to point at a restarted instance. */
  backends: number[];
  /** Connections handed to each backend (same order as `backends`). */
  connections: number[];
  /** Client connections no backend accepted (every backend refused). */
  failed: number;
  /** Open connections: which backend (index) and the first line the client sent (`GET /ws HTTP/1.1`). */
  live(): { backend: number; firstLine: string }[];
  close(): Promise<void>;
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export async function startBalancer(backends: number[]): Promise<Balancer> {
  const open = new Set<Socket>();
  const routes = new Map<Socket, { backend: number; firstLine: string }>();
  let next = 0;
  const lb: Balancer = {
    port: 0,
    backends: [...backends],
    connections: backends.map(() => 0),
    failed: 0,
    live: () => [...routes.values()],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => {});
    client.pause();
    void (async () => {
      for (let tried = 0; tried < lb.backends.length; tried++) {
        const i = next++ % lb.backends.length;
        let backend: Socket;
        try {
          backend = await connect(lb.backends[i]!);
        } catch {
          continue; // refused: a dead instance, try the next one
        }
        lb.connections[i] = (lb.connections[i] ?? 0) + 1;
        const route = { backend: i, firstLine: '' };
        routes.set(client, route);
        client.once('close', () => routes.delete(client));
        client.once('data', (d: Buffer) => (route.firstLine = d.toString('latin1').split('\r\n', 1)[0]!));
        open.add(backend);
        backend.once('close', () => {
          open.delete(backend);
          client.destroy();
        });
        backend.on('error', () => client.destroy());
        client.once('close', () => backend.destroy());
        client.pipe(backend);
        backend.pipe(client);
        client.resume();
        return;
      }
      lb.failed += 1;
      client.destroy();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  lb.port = (server.address() as AddressInfo).port;
  return lb;
}
