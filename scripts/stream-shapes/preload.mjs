/**
 * The preload of run.mjs: before the proxy starts, pipes data through eight stream classes into
 * four kinds of sink and emits through ten emitter subclasses, as a large app does over its life,
 * so that Node's shared stream and event functions have seen many object shapes.
 */
import { EventEmitter } from 'node:events';
import { Duplex, PassThrough, Readable, Transform, Writable } from 'node:stream';
import zlib from 'node:zlib';

class PlainReadable extends Readable {
  _read() {}
}
class SmallReadable extends Readable {
  constructor() {
    super({ highWaterMark: 1024 });
    this.extra = 1;
  }
  _read() {}
}
class PlainWritable extends Writable {
  _write(_chunk, _encoding, done) {
    done();
  }
}
class StringWritable extends Writable {
  constructor() {
    super({ decodeStrings: false });
    this.extra = 2;
  }
  _write(_chunk, _encoding, done) {
    done();
  }
}
class PlainDuplex extends Duplex {
  _read() {}
  _write(_chunk, _encoding, done) {
    done();
  }
}
class Identity extends Transform {
  _transform(chunk, _encoding, done) {
    done(null, chunk);
  }
}

const sources = [
  () => new PlainReadable(),
  () => new SmallReadable(),
  () => new PassThrough(),
  () => new Identity(),
  () => new PlainDuplex(),
  () => zlib.createGzip(),
  () => zlib.createGunzip(),
  () => Readable.fromWeb(new ReadableStream({ pull: (c) => c.close() })),
];
const sinks = [() => new PlainWritable(), () => new StringWritable(), () => new PassThrough().resume(), () => new PlainDuplex()];

for (let round = 0; round < 300; round++) {
  for (const source of sources) {
    for (const sink of sinks) {
      const from = source();
      const to = sink();
      from.on('error', () => {});
      to.on('error', () => {});
      from.pipe(to);
      const isZlib = from instanceof zlib.Gzip || from instanceof zlib.Gunzip;
      if (isZlib) from.end(Buffer.alloc(100));
      else if (from instanceof Readable && !from.readableEnded && typeof from._read === 'function') {
        try {
          from.push(Buffer.alloc(100));
          from.push(null);
        } catch {
          /* a stream that already ended */
        }
      }
    }
  }
  for (let k = 0; k < 10; k++) {
    const Emitter = class extends EventEmitter {};
    const e = new Emitter();
    e[`p${k}`] = k;
    e.on('x', () => {});
    e.once('y', () => {});
    e.emit('x', 1);
    e.emit('y');
  }
}
await new Promise((r) => setTimeout(r, 500));
