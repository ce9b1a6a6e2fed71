/** What a request carried, as the inspector reports it (`/api/echo` JSON and the page's table). */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parseCookies } from '../headers.js';

export interface RequestReport {
  method: string;
  path: string;
  /** Decoded query parameters; repeated names become arrays. */
  query: Record<string, string | string[]>;
  /** As Node presents them: lower-case names, duplicates joined. */
  headers: Record<string, string | string[] | undefined>;
  cookies: Record<string, string>;
}

export interface EchoReport extends RequestReport {
  bodySize: number;
  bodySha256: string;
}

export function describeRequest(req: IncomingMessage): RequestReport {
  const url = new URL(req.url ?? '/', 'http://inspector.invalid');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return { method: req.method ?? 'GET', path: url.pathname, query, headers: { ...req.headers }, cookies: parseCookies(req.headers.cookie) };
}

/** Consumes the body as it streams (never buffered whole) and reports its size and digest. */
export function digestBody(req: IncomingMessage): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    req.on('error', reject);
  });
}

export async function echo(req: IncomingMessage): Promise<EchoReport> {
  const report = describeRequest(req);
  const { bytes, sha256 } = await digestBody(req);
  return { ...report, bodySize: bytes, bodySha256: sha256 };
}
