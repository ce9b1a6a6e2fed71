/** The node:http fetch used on the hot path, against small local servers. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { spawn } from 'node:child_process';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeFetch } from '../../../broker/node/fetch-upstream.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function server(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const s = createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  );
  return { server: s, port: (s.address() as AddressInfo).port };
}

function fetcher() {
  const f = createNodeFetch();
  cleanups.push(() => f.close());
  return f;
}

describe('createNodeFetch', () => {
  it('connects *.localhost to 127.0.0.1 and sends the original Host', async () => {
    const { port } = await server((req, res) => res.end(req.headers.host));
    const res = await fetcher()(new Request(`http://3000-abc.proxy.localhost:${port}/x`));
    expect(await res.text()).toBe(`3000-abc.proxy.localhost:${port}`);
  });

  it('never follows redirects and ignores 1xx interim answers (103 Early Hints)', async () => {
    const { port } = await server((req, res) => {
      if (req.url === '/hints') {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        return res.end('final');
      }
      res.writeHead(302, { location: '/elsewhere' }).end();
    });
    const f = fetcher();
    const redirect = await f(new Request(`http://127.0.0.1:${port}/`));
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/elsewhere');
    const hints = await f(new Request(`http://127.0.0.1:${port}/hints`));
    expect(hints.status).toBe(200);
    expect(await hints.text()).toBe('final');
  });

  it('keeps every Set-Cookie separate and reuses keep-alive sockets', async () => {
    const peers = new Set<number>();
    const { port } = await server((req, res) => {
      peers.add(req.socket.remotePort ?? 0);
      res.writeHead(
        200,
        [
          ['Set-Cookie', 'a=1'],
          ['Set-Cookie', 'b=2'],
        ].flat(),
      );
      res.end('ok');
    });
    const f = fetcher();
    for (let i = 0; i < 5; i++) {
      const res = await f(new Request(`http://127.0.0.1:${port}/`));
      expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
      await res.text();
    }
    expect(peers.size).toBe(1);
  });

  it('retries a bodyless request once when a reused keep-alive socket was closed by the server', async () => {
    let n = 0;
    const { server: s, port } = await server((_req, res) => res.end(String(++n)));
    s.keepAliveTimeout = 60_000;
    const f = fetcher();
    expect(await (await f(new Request(`http://127.0.0.1:${port}/`))).text()).toBe('1');
    // Kill the idle socket server-side without the client noticing before its next write.
    s.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 5));
    expect(await (await f(new Request(`http://127.0.0.1:${port}/`))).text()).toBe('2');
  });

  it('rejects with an AbortError when the signal aborts, and destroys the request', async () => {
    let closed = false;
    const { port } = await server((_req, res) => res.on('close', () => (closed = true)));
    const abort = new AbortController();
    const pending = fetcher()(new Request(`http://127.0.0.1:${port}/`, { signal: abort.signal }));
    setTimeout(() => abort.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    for (let i = 0; i < 50 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(true);
  });

  it('times out answering with a TimeoutError', async () => {
    const { port } = await server(() => {});
    const f = createNodeFetch({ responseTimeoutMs: 100 });
    cleanups.push(() => f.close());
    await expect(f(new Request(`http://127.0.0.1:${port}/`))).rejects.toMatchObject({ name: 'TimeoutError', message: 'no response headers in time' });
  });

  it('times out connecting to a host that never accepts (a listener with a full backlog)', async () => {
    const port = await blackhole();
    const f = createNodeFetch({ connectTimeoutMs: 300, responseTimeoutMs: 60_000 });
    cleanups.push(() => f.close());
    const started = Date.now();
    await expect(f(new Request(`http://127.0.0.1:${port}/`))).rejects.toMatchObject({ name: 'TimeoutError', message: 'connect timed out' });
    // The connect timer answered, not the (one minute) response timer, and not at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

/**
 * A loopback port whose listener never accepts: a child process listens with a backlog of 1 and
 * then blocks its event loop, and the kernel's accept queue is filled with idle connections, so
 * the next SYN is dropped and a connect hangs (Linux drops SYNs to a listener whose accept
 * queue is full). Torn down with the test.
 */
async function blackhole(): Promise<number> {
  const script =
    "const s=require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},()=>{" +
    'process.stdout.write(String(s.address().port)+"\\n");' +
    'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,120000);process.exit(0)})';
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const fillers: Socket[] = [];
  cleanups.push(() => {
    for (const s of fillers) s.destroy();
    child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', () => reject(new Error('blackhole listener exited')));
  });
  // Fill the accept queue: connections complete (in the kernel) until one no longer does.
  for (let i = 0; i < 64; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
    const connected = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 500);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    if (!connected) return port;
  }
  throw new Error('the accept queue never filled');
}
