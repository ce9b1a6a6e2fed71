/**
 * broker/node/parsed-headers.ts trusts the values of Node's strict HTTP parser (no NUL, CR or LF
 * reaches a value; bytes read as Latin-1). Both halves are checked here: the premise (Node's
 * server refuses such a value, and hands anything above 0x7F over as one Latin-1 character) and
 * the switch (a process told `--insecure-http-parser` checks every value again).
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { headersFromParser, parserIsStrict } from '../../broker/node/parsed-headers.js';
import { HeaderList } from '../../broker/core/http/header-list.js';

/** Sends `head` raw to a fresh node:http server; the status line it answers, and the raw headers it parsed. */
async function rawExchange(head: string): Promise<{ status: string; raw: string[] | null }> {
  let raw: string[] | null = null;
  const server = http.createServer((req, res) => {
    raw = req.rawHeaders;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const status = await new Promise<string>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(head, 'latin1'));
    let text = '';
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (text.includes('\r\n')) {
        resolve(text.split('\r\n', 1)[0]!);
        s.destroy();
      }
    });
    s.on('error', () => resolve(text.split('\r\n', 1)[0] ?? ''));
  });
  server.close();
  return { status, raw };
}

describe('values from a strict parser are not checked twice (parsed-headers.ts)', () => {
  it('a CR, LF or NUL inside a header value is refused by the server this process runs', async () => {
    expect(parserIsStrict).toBe(true);
    for (const bad of ['a\rb', 'a\0b']) {
      const r = await rawExchange(`GET / HTTP/1.1\r\nHost: x\r\nX-A: ${bad}\r\n\r\n`);
      expect(r.status, JSON.stringify(bad)).toMatch(/^HTTP\/1\.1 400/);
      expect(r.raw).toBeNull();
    }
    // Positive control: the same request with a plain value is served, and a byte above 0x7F is one Latin-1 character.
    const ok = await rawExchange('GET / HTTP/1.1\r\nHost: x\r\nX-A: caf\xe9 \r\nConnection: close\r\n\r\n');
    expect(ok.status).toMatch(/^HTTP\/1\.1 200/);
    const h = headersFromParser(ok.raw!);
    expect(h.get('x-a')).toBe('café');
    expect(h).toBeInstanceOf(HeaderList);
  });

  it('a process told --insecure-http-parser checks every value again', () => {
    const probe =
      "import('./broker/node/parsed-headers.ts').then((m) => console.log(m.parserIsStrict, m.headersFromParser(['X-A', 'a\\rb', 'X-B', 'ok']).get('x-a')))";
    const run = (nodeOptions: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', probe], { env: { ...process.env, NODE_OPTIONS: nodeOptions }, encoding: 'utf8' }).stdout.trim();
    expect(run('--insecure-http-parser')).toBe('false null');
    // Positive control: the default is the strict parser (its values taken as they are).
    expect(run('')).toBe('true a\rb');
  });
});
