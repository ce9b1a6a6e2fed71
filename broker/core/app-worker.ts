/**
 * The app's own Service Worker (ARCHITECTURE.md flow 15). A browser keeps one worker per scope:
 * an app that registers its own at `/` (a PWA, Workbox, vite-plugin-pwa) replaces the gateway's
 * `/__gate/sw.js`, and with it the token the worker attaches. So when the browser fetches the
 * app's worker script (it alone sends `Service-Worker: script`), the gateway answers it
 * *wrapped*: the gateway's worker first, in composition mode (sw/worker/compose.ts), then the
 * app's script byte for byte, then the call that adds our last fetch listener:
 *
 *   classic:  importScripts('/__gate/sw.js'); <app script> ;self.__previewGate…finish();
 *   module:   import '/__gate/sw.js';          <app script> ;self.__previewGate…finish();
 *
 * The app's script is inlined, so the wrapper's bytes change whenever the app's script does and
 * the browser's byte-for-byte update check still sees the app's updates (and ours, through the
 * imported `/__gate/sw.js`). Where wrapping cannot work the app's answer passes unchanged, with
 * `X-Preview-Gate-App-Worker: unwrapped; reason=…` and a log line: the app's worker then
 * replaces ours and the preview runs on the cookie path (the bootstrap reports `cookie`).
 */
import { GATE_PATHS, GateError } from '../../protocol/index.js';
import type { Logger } from './contracts.js';

/** Answer header saying what the gateway did with a worker script (diagnosis, tests). */
export const APP_WORKER_HEADER = 'x-preview-gate-app-worker';
/** The global our worker sets in composition mode (sw/worker/sw.ts reads the same name). */
export const COMPOSE_GLOBAL = '__previewGate';
/** Larger scripts are passed unwrapped: the whole script is held in memory to wrap it. */
export const MAX_APP_WORKER_BYTES = 4 * 1024 * 1024;

const JS_TYPES = /^(text|application)\/(x-)?(javascript|ecmascript)\b/i;

/** The browser's fetch of a Service Worker's main script (install, update check). */
export function isAppWorkerScript(req: Request): boolean {
  return req.method === 'GET' && req.headers.get('service-worker') === 'script';
}

/**
 * The forwarded request for the app's script: `Accept-Encoding: identity`, because the gateway
 * must read the script (the upstream client does not decompress).
 */
export function appWorkerRequest(forwarded: Request): Request {
  // `forwarded` is forwardRequest's answer: headers of its own (a fresh copy), usually on a
  // lightweight view that is not a real Request, so it must not be wrapped in `new Request`.
  forwarded.headers.set('accept-encoding', 'identity');
  return forwarded;
}

/**
 * True when the script is an ES module: a static `import` or `export` at the start of a line
 * (block comments removed first). A classic script cannot hold either statement, so only one
 * inside a multi-line string or template can mislead it; the browser then refuses to install
 * the wrapper, the app's registration fails, and ours keeps serving.
 */
export function looksLikeModule(source: string): boolean {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '');
  return /^[ \t]*(import(?:[ \t]+[\w{*]|[ \t]*[{*'"])|export(?:[ \t]+[\w{*]|[ \t]*\{))/m.test(code);
}

/** The wrapper around the app's script (see the file's comment). */
export function wrapWorkerSource(source: string, kind: 'classic' | 'module'): string {
  const head = kind === 'module' ? `import '${GATE_PATHS.serviceWorker}';\n` : `importScripts('${GATE_PATHS.serviceWorker}');\n`;
  // The app's script may end in a line comment without a newline: ours starts on a line of its own.
  const tail = `\n;self.${COMPOSE_GLOBAL} && self.${COMPOSE_GLOBAL}.finish();\n`;
  return `/* preview-gate: the preview's credential layer, then this app's own Service Worker (unchanged below). */\n${head}${source}${tail}`;
}

function unwrapped(res: Response, reason: string, logger: Logger, host: string, path: string): Response {
  logger.warn('app_worker_unwrapped', { host, path, reason });
  const headers = new Headers(res.headers);
  headers.set(APP_WORKER_HEADER, `unwrapped; reason=${reason}`);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

/** The app's answer to its worker script, wrapped when it can be (see the file's comment). */
export async function wrapAppWorkerAnswer(res: Response, url: URL, logger: Logger): Promise<Response> {
  if (res.status !== 200) return res; // a 304 keeps the wrapper the browser already has; errors pass
  const say = (reason: string) => unwrapped(res, reason, logger, url.host, url.pathname);
  if (!JS_TYPES.test(res.headers.get('content-type') ?? '')) return say('not-javascript');
  const encoding = (res.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== '') return say('encoded');
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_APP_WORKER_BYTES) return say('too-large');
  const bytes = await readCapped(res, MAX_APP_WORKER_BYTES);
  if (bytes === null) {
    // Already partly read: it can neither be wrapped nor passed on. The browser keeps the worker it has.
    logger.warn('app_worker_unwrapped', { host: url.host, path: url.pathname, reason: 'too-large' });
    throw new GateError('upstream_unavailable', `The app's Service Worker script is larger than ${MAX_APP_WORKER_BYTES} bytes.`);
  }
  // Worker scripts are always decoded as UTF-8 (HTML, "fetch a classic worker script").
  const source = new TextDecoder('utf-8').decode(bytes);
  const kind = looksLikeModule(source) ? 'module' : 'classic';
  const headers = new Headers(res.headers);
  for (const name of ['content-length', 'content-encoding', 'etag', 'last-modified', 'content-md5', 'digest']) headers.delete(name);
  headers.set('content-type', 'text/javascript; charset=utf-8');
  headers.set(APP_WORKER_HEADER, kind);
  return new Response(wrapWorkerSource(source, kind), { status: 200, statusText: res.statusText, headers });
}

/** The whole body, or null past `max` bytes (the stream is cancelled). */
async function readCapped(res: Response, max: number): Promise<Uint8Array | null> {
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
