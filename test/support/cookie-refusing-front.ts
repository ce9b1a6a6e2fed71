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
import { endTogether, startFront, type LoopbackFront } from './loopback-front.js';

export type CookieRefusingFront = LoopbackFront;

const withoutCookies = (raw: string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() !== 'cookie') out.push([raw[i]!, raw[i + 1]!]);
  return out;
};

export function startCookieRefusingFront(): Promise<CookieRefusingFront> {
  return startFront(({ target: targetPort, track }) => {
    const server = http.createServer((req, res) => {
      const target = targetPort();
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
    server.on('upgrade', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      const target = targetPort();
      if (target === undefined) return void client.destroy();
      const upstream = net.connect(target, '127.0.0.1', () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`, ...withoutCookies(req.rawHeaders).map(([k, v]) => `${k}: ${v}`), '', ''];
        upstream.write(lines.join('\r\n'));
        if (head.length) upstream.write(head);
        // The 101 carries no Set-Cookie (the gateway never sets one on an upgrade, flow 7).
        upstream.pipe(client).pipe(upstream);
      });
      track(upstream);
      endTogether(upstream, client);
    });
    return server;
  });
}
