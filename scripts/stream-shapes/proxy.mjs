/** The proxy of run.mjs: node:http server + http.request on a keep-alive Agent, one header added, pipe both ways. */
import http from 'node:http';
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const up = Number(process.env.UP);
http
  .createServer((req, res) => {
    const p = http.request({ host: '127.0.0.1', port: up, path: req.url, method: req.method, headers: { ...req.headers, 'x-token': 'abc' }, agent }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    p.on('error', () => res.destroy());
    req.pipe(p);
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
