/**
 * `EMULATOR_BIND`: binds ports of the sample sandbox to servers on this machine, so anyone can
 * preview their own dev server through the emulator (`npm run emulator`) or the whole demo
 * (`npm run demo`), and tests can bind real ones from outside.
 *
 *   EMULATOR_BIND=3000=http://127.0.0.1:4123,8501=http://127.0.0.1:4124
 *
 * A comma list of `{sandboxPort}={http URL}`. Each bound port is forwarded like any sandbox
 * port (demo/emulator/ports.ts `{ target }` bindings): HTTP and WebSocket upgrades alike, with
 * `Host: localhost:{sandboxPort}` as Daytona's proxy sends. A URL path becomes a prefix
 * (`8888=http://127.0.0.1:9000/lab` serves `/x` from `/lab/x`). Nothing is checked for being up:
 * a server that is not listening yet answers the bare 502 of a port with nothing behind it,
 * which is what a sandbox whose dev server has not started answers in Daytona.
 */

/** Why EMULATOR_BIND was refused, with the offending entry: printed as it is, exit 2. */
export class BindError extends Error {
  override readonly name = 'BindError';
}

const EXAMPLE = 'EMULATOR_BIND=3000=http://127.0.0.1:4123,8501=http://127.0.0.1:4124';

/** `{ [sandboxPort]: { target } }`, ready for `createSandbox({ ports })`; empty for unset/blank. */
export function parseEmulatorBind(raw: string | undefined): Record<number, { target: string }> {
  const out: Record<number, { target: string }> = {};
  if (raw === undefined || raw.trim() === '') return out;
  for (const [index, piece] of raw.split(',').entries()) {
    const entry = piece.trim();
    const where = `EMULATOR_BIND entry ${index + 1} ("${entry}")`;
    if (entry === '') throw new BindError(`${where} is empty: remove the extra comma (example: ${EXAMPLE})`);
    const eq = entry.indexOf('=');
    if (eq < 0) throw new BindError(`${where} must be {sandboxPort}={http URL} (example: ${EXAMPLE})`);
    const portText = entry.slice(0, eq).trim();
    const urlText = entry.slice(eq + 1).trim();
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw new BindError(`${where}: the sandbox port must be a number from 1 to 65535, got "${portText}"`);
    }
    const port = Number(portText);
    if (out[port]) throw new BindError(`${where}: sandbox port ${port} is bound twice`);
    if (!urlText.includes('://')) throw new BindError(`${where}: "${urlText}" needs its scheme: write http://${urlText}`);
    let url: URL;
    try {
      url = new URL(urlText);
    } catch {
      throw new BindError(`${where}: "${urlText}" is not a URL (expected e.g. http://127.0.0.1:4123)`);
    }
    if (url.protocol !== 'http:') {
      // The emulator forwards plain HTTP (and upgrades over it), as Daytona's proxy reaches a sandbox port.
      throw new BindError(`${where}: only http: URLs can be bound (a local dev server), got ${url.protocol}`);
    }
    if (url.username || url.password) throw new BindError(`${where}: the URL must not carry a user name or password`);
    if (url.search || url.hash) throw new BindError(`${where}: the URL must not have a query or fragment (a path prefix is fine)`);
    out[port] = { target: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
  }
  return out;
}
