/**
 * A small Node-side client for the emulated preview proxy. Node's resolver does not resolve
 * `*.localhost`, so callers connect to 127.0.0.1:{emulator port} and send the preview host in
 * the Host header; this helper does exactly that for a preview URL.
 *
 * @example
 * const res = await proxyRequest(emu.previewUrl(id, 3000), '/api/echo', { headers: { 'x-daytona-preview-token': token } });
 * res.status; res.json();
 */
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface ProxyResponse {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text(): string;
  json<T = any>(): T;
}

export interface ProxyRequestOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
}

/** Sends one request to `previewUrl` (+ `path`) through 127.0.0.1 with the right Host header. */
export function proxyRequest(previewUrl: string, path = '/', opts: ProxyRequestOptions = {}): Promise<ProxyResponse> {
  const url = new URL(previewUrl);
  return rawRequest({ port: Number(url.port), host: url.host, path, ...opts });
}

/** One HTTP request to 127.0.0.1:`port` with an explicit Host header; the whole answer buffered (small answers only). */
export function rawRequest(opts: ProxyRequestOptions & { port: number; host: string; path: string }): Promise<ProxyResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: opts.port, method: opts.method ?? 'GET', path: opts.path, headers: { host: opts.host, ...opts.headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body,
            text: () => body.toString('utf8'),
            json: () => JSON.parse(body.toString('utf8')),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The Host header value (`{port}-{id}.{domain}:{port}`) of a preview URL. */
export function hostOf(previewUrl: string): string {
  return new URL(previewUrl).host;
}
