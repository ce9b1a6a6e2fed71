/**
 * The floor: a minimal Node reverse proxy doing what nginx does in the bench (node:http server,
 * http.request on a keep-alive Agent, pipe both ways, the Daytona token injected), plus raw
 * socket piping for WebSocket upgrades. Env: UPSTREAM_PORT, UPSTREAM_HOST (the Host Daytona's
 * proxy routes on), TOKEN. Prints PROXY_PORT=… once listening.
 */
import http from 'node:http';
import net from 'node:net';

const { UPSTREAM_PORT, UPSTREAM_HOST, TOKEN } = process.env;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const server = http.createServer((req, res) => {
  const headers = { ...req.headers, host: UPSTREAM_HOST, 'x-daytona-preview-token': TOKEN, 'x-daytona-skip-preview-warning': 'true' };
  const up = http.request({ host: '127.0.0.1', port: UPSTREAM_PORT, method: req.method, path: req.url, headers, agent }, (ur) => {
    res.writeHead(ur.statusCode, ur.headers);
    ur.pipe(res);
  });
  up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  req.pipe(up);
});
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
