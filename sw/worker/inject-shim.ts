/**
 * On the cookie-less path ("worker-only") the worker adds the WebSocket wrapper to the app's
 * HTML: `<script src="/__gate/ws.js">` right after the opening `<head>` tag, so it runs before
 * any script of the app (sw/page/ws-shim.ts says what it does).
 *
 * The app's Content-Security-Policy still applies: a same-origin script passes `'self'`; when the
 * policy's `script-src` (or `script-src-elem`, or `default-src`) carries a nonce, the tag gets
 * that nonce, as a server-side insertion would. A policy that allows scripts by hash only, or
 * `'strict-dynamic'` without a nonce, refuses the wrapper: the app's WebSockets then get no
 * credential on this path (ARCHITECTURE.md, known limits).
 *
 * The body is streamed: bytes are held back only until the insertion point is known (the
 * `<head>` tag, else `<html>`, else the doctype, else the start; at most 64 KiB are held).
 * Bytes are searched as Latin-1, which finds ASCII markup in any ASCII-compatible charset.
 */
import { GATE_PATHS } from '../../protocol/index.js';

const HOLD_LIMIT = 64 * 1024;

/** The first nonce of the directive that governs script elements, or undefined. */
export function scriptNonce(csp: string | null): string | undefined {
  if (!csp) return undefined;
  // Several policies (comma-joined headers) all apply: a nonce must satisfy each that restricts scripts.
  const nonces: (string | undefined)[] = [];
  for (const policy of csp.split(',')) {
    const directives = new Map<string, string>();
    for (const d of policy.split(';')) {
      const [name, ...values] = d.trim().split(/\s+/);
      if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), values.join(' '));
    }
    const governing = directives.get('script-src-elem') ?? directives.get('script-src') ?? directives.get('default-src');
    if (governing === undefined) continue;
    nonces.push(/'nonce-([A-Za-z0-9+/_=-]+)'/.exec(governing)?.[1]);
  }
  const first = nonces.find((n) => n !== undefined);
  return first !== undefined && nonces.every((n) => n === undefined || n === first) ? first : undefined;
}

/** The tag inserted into the page. */
export function shimTag(nonce?: string): string {
  return `<script src="${GATE_PATHS.wsShim}"${nonce ? ` nonce="${nonce}"` : ''}></script>`;
}

/**
 * Where the tag goes in `head` (the first bytes of the document, Latin-1): after `<head …>`;
 * when the document has no head tag (yet), after `<html …>` or the doctype, else at 0.
 * Undefined: not decidable yet (more bytes may bring the `<head>` tag).
 */
export function insertionPoint(head: string, complete: boolean): number | undefined {
  const lower = head.toLowerCase();
  const headTag = /<head(?:\s[^>]*)?>/.exec(lower);
  if (headTag) return headTag.index + headTag[0].length;
  // A tag that can only come after the head (or starts the body) settles it without one.
  const later = /<(?:body|script|link|meta|style|title|div|p)[\s>]/.exec(lower);
  if (!complete && !later) return undefined;
  const html = /<html(?:\s[^>]*)?>/.exec(lower);
  if (html && (!later || html.index < later.index)) return html.index + html[0].length;
  const doctype = /<!doctype[^>]*>/.exec(lower);
  if (doctype && (!later || doctype.index < later.index)) return doctype.index + doctype[0].length;
  return 0;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The HTML body stream with the tag inserted. */
export function injectIntoStream(body: ReadableStream<Uint8Array>, tag: string): ReadableStream<Uint8Array> {
  const held: Uint8Array[] = [];
  let size = 0;
  let done = false;
  const tagBytes = new TextEncoder().encode(tag);
  const flush = (controller: TransformStreamDefaultController<Uint8Array>, complete: boolean) => {
    const all = concat(held);
    const at = insertionPoint(latin1(all), complete || size >= HOLD_LIMIT);
    if (at === undefined) return;
    controller.enqueue(all.subarray(0, at));
    controller.enqueue(tagBytes);
    if (at < all.length) controller.enqueue(all.subarray(at));
    held.length = 0;
    done = true;
  };
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (done) return controller.enqueue(chunk);
        held.push(chunk);
        size += chunk.length;
        flush(controller, false);
      },
      flush(controller) {
        if (!done) flush(controller, true);
      },
    }),
  );
}

/** True for an answer the wrapper can be added to: a readable HTML document. */
export function isInjectable(response: Response): boolean {
  if (response.type === 'opaqueredirect' || response.type === 'opaque' || !response.body) return false;
  if (response.status === 204 || response.status === 304 || (response.status >= 300 && response.status < 400)) return false;
  return /^\s*text\/html\b/i.test(response.headers.get('content-type') ?? '');
}

/** `response` with the wrapper's tag added, or unchanged when it is not an HTML document. */
export function withShim(response: Response): Response {
  if (!isInjectable(response)) return response;
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  const tag = shimTag(scriptNonce(response.headers.get('content-security-policy')));
  return new Response(injectIntoStream(response.body!, tag), { status: response.status, statusText: response.statusText, headers });
}
