/** The stream-shape preload of run.mjs: pipes data through many stream classes and emitter subclasses, as a large app does, before the proxy starts. */
import { Readable, Writable, Duplex, Transform, PassThrough, pipeline } from 'node:stream';
import { EventEmitter } from 'node:events';
import zlib from 'node:zlib';
const kinds = [];
class R1 extends Readable {
  _read() {}
}
class R2 extends Readable {
  constructor() {
    super({ objectMode: false, highWaterMark: 1024 });
    this.a = 1;
  }
  _read() {}
}
class W1 extends Writable {
  _write(c, e, cb) {
    cb();
  }
}
class W2 extends Writable {
  constructor() {
    super({ decodeStrings: false });
    this.b = 2;
  }
  _write(c, e, cb) {
    cb();
  }
}
class D1 extends Duplex {
  _read() {}
  _write(c, e, cb) {
    cb();
  }
}
class T1 extends Transform {
  _transform(c, e, cb) {
    cb(null, c);
  }
}
const makers = [
  () => new R1(),
  () => new R2(),
  () => new PassThrough(),
  () => new T1(),
  () => new D1(),
  () => zlib.createGzip(),
  () => zlib.createGunzip(),
  () =>
    Readable.fromWeb(
      new ReadableStream({
        pull(c) {
          c.close();
        },
      }),
    ),
];
const sinks = [() => new W1(), () => new W2(), () => new PassThrough().resume(), () => new D1()];
let n = 0;
for (let round = 0; round < 300; round++) {
  for (const mk of makers) {
    for (const sk of sinks) {
      const r = mk();
      const w = sk();
      r.on('error', () => {});
      w.on('error', () => {});
      if (typeof r.push === 'function' && !(r instanceof zlib.Gzip) && !(r instanceof zlib.Gunzip)) {
        try {
          r.pipe(w);
          r.push(Buffer.alloc(100));
          r.push(null);
        } catch {}
      } else {
        try {
          r.pipe(w);
          r.end?.(Buffer.alloc(100));
        } catch {}
      }
      n++;
    }
  }
  for (let k = 0; k < 10; k++) {
    class E extends EventEmitter {}
    const e = new E();
    e[`p${k}`] = k;
    e.on('x', () => {});
    e.once('y', () => {});
    e.emit('x', 1);
    e.emit('y');
  }
}
await new Promise((r) => setTimeout(r, 500));
