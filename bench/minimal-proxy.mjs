/**
 * The floor: a minimal Node reverse proxy doing what nginx does in the bench (node:http server,
 * http.request on a keep-alive Agent, pipe both ways, the Daytona token injected), plus raw
 * socket piping for WebSocket upgrades. Env: UPSTREAM_PORT, UPSTREAM_HOST (the Host Daytona's
 * proxy routes on), TOKEN. Prints PROXY_PORT=… once listening.
 *
 * `MINIMAL_BYTES=1`: "the minimal proxy + the gateway's bytes", the floor for a Node proxy that
 * must carry what preview-gate's security features put on the wire, with none of its logic. Per
 * request it does what the gateway does to the headers of `GET /api/echo` (captured with strace,
 * docs/benchmarks.md "Round 4"), with fixed values of the real sizes and no checks:
 *  - up: drops the client's `x-daytona-preview-token` (the gateway's access JWT, which the load
 *    sends to this proxy too), sends Host = a signed preview host (UPSTREAM_HOST; no token
 *    header, as the gateway's signed links), `x-preview-gate-identity` (IDENTITY_BYTES long, the
 *    identity assertion's size), `x-request-id` (16), `x-daytona-skip-preview-warning`,
 *    `x-daytona-disable-cors`, `x-forwarded-host`/`-proto`/`-for`;
 *  - down: drops Daytona's `set-cookie` (its auth cookie, which a signed host makes it send on
 *    every answer, as it does to the gateway) and adds `x-request-id`.
 * The upstream then answers both alike (same Set-Cookie, same echo of the headers it got).
 */
import http from 'node:http';
import net from 'node:net';

const { UPSTREAM_PORT, UPSTREAM_HOST, TOKEN } = process.env;
const BYTES = process.env.MINIMAL_BYTES === '1';
const IDENTITY = 'i'.repeat(Number(process.env.IDENTITY_BYTES ?? 437));
const REQUEST_ID = 'r'.repeat(16);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
/** One request upstream and its answer back, with `headers` up and `answer(headers)` down. */
const forward = (req, res, headers, answer) => {
  const up = http.request({ host: '127.0.0.1', port: UPSTREAM_PORT, method: req.method, path: req.url, headers, agent }, (ur) => {
    res.writeHead(ur.statusCode, answer(ur.headers));
    ur.pipe(res);
  });
  up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  req.pipe(up);
};
const asIs = (headers) => headers;
const plain = (req, res) =>
  forward(req, res, { ...req.headers, host: UPSTREAM_HOST, 'x-daytona-preview-token': TOKEN, 'x-daytona-skip-preview-warning': 'true' }, asIs);
const withBytes = (req, res) => {
  const { 'x-daytona-preview-token': _token, host, ...rest } = req.headers;
  const headers = {
    ...rest,
    host: UPSTREAM_HOST,
    'x-preview-gate-identity': IDENTITY,
    'x-request-id': REQUEST_ID,
    'x-daytona-skip-preview-warning': 'true',
    'x-daytona-disable-cors': 'true',
    'x-forwarded-host': host,
    'x-forwarded-proto': 'http',
    'x-forwarded-for': req.socket.remoteAddress,
  };
  forward(req, res, headers, (answer) => {
    const { 'set-cookie': _cookie, ...kept } = answer;
    kept['x-request-id'] = REQUEST_ID;
    return kept;
  });
};
const server = http.createServer(BYTES ? withBytes : plain);
server.on('upgrade', (req, socket, head) => {
  const up = net.connect(Number(UPSTREAM_PORT), '127.0.0.1', () => {
    let head0 = `${req.method} ${req.url} HTTP/1.1\r\nHost: ${UPSTREAM_HOST}\r\nX-Daytona-Preview-Token: ${TOKEN}\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      if (!/^(host|x-daytona-preview-token)$/i.test(req.rawHeaders[i])) head0 += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    up.write(`${head0}\r\n`);
    up.write(head);
    up.pipe(socket).pipe(up);
  });
  up.on('error', () => socket.destroy());
  socket.on('error', () => up.destroy());
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log(`PROXY_PORT=${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
