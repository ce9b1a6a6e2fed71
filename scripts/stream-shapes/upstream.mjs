/** The upstream of run.mjs: a ~0.5 KB JSON answer to every request. */
import http from 'node:http';
const body = Buffer.from(JSON.stringify({ ok: true, pad: 'x'.repeat(450) }));
http
  .createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
