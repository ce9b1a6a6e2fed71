/**
 * A loopback HTTP front that makes the browser's cookies disappear for everything behind it:
 * it forwards requests (and WebSocket upgrades) to the gateway without any `Cookie` header and
 * drops every `Set-Cookie` from the answers. Chromium cannot be told to refuse cookies for a
 * frame while still running its Service Worker (its cookie setting governs all site data, and
 * blocking third-party cookies also refuses the worker), so this puts Chromium where WebKit's
 * cross-site iframe is by itself: a worker, and no cookie ever coming back (the cookie-less
 * "worker-only" path, test/e2e/cookieless.test.ts).
 */
import http from 'node:http';
import net from 'node:net';

export interface CookieRefusingFront {
  port: number;
  forwardTo(port: number): void;
  close(): Promise<void>;
}

const withoutCookies = (raw: string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() !== 'cookie') out.push([raw[i]!, raw[i + 1]!]);
  return out;
};

export async function startCookieRefusingFront(): Promise<CookieRefusingFront> {
  let target: number | undefined;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    if (target === undefined) return void res.writeHead(503).end();
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: target,
        method: req.method,
        path: req.url,
        headers: Object.fromEntries(withoutCookies(req.rawHeaders).map(([k, v]) => [k.toLowerCase(), v])),
        agent: false,
      },
      (answer) => {
        const headers: [string, string][] = [];
        for (let i = 0; i < answer.rawHeaders.length; i += 2) {
          if (answer.rawHeaders[i]!.toLowerCase() !== 'set-cookie') headers.push([answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!]);
        }
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers.flat());
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    if (target === undefined) return void client.destroy();
    const upstream = net.connect(target, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`, ...withoutCookies(req.rawHeaders).map(([k, v]) => `${k}: ${v}`), '', ''];
      upstream.write(lines.join('\r\n'));
      if (head.length) upstream.write(head);
      // The 101 carries no Set-Cookie (the gateway never sets one on an upgrade, flow 7).
      upstream.pipe(client).pipe(upstream);
    });
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.once('error', end);
    client.once('error', end);
    upstream.once('close', end);
    client.once('close', end);
  });
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
