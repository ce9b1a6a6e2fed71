/**
 * For tests of the WebSocket relay's frame handling (broker/node/ws-going-away.ts): server
 * frames built by hand, and connected loopback socket pairs destroyed after each test.
 */
import net from 'node:net';
import { afterEach } from 'vitest';

/** An unmasked server frame (FIN + opcode) with `len` payload bytes of `fill` (7, 16 or 64-bit length). */
export function frame(opcode: number, len: number, fill = 0x61, fin = true): Buffer {
  const first = (fin ? 0x80 : 0) | opcode;
  let head: Buffer;
  if (len < 126) head = Buffer.from([first, len]);
  else if (len < 65536) {
    head = Buffer.from([first, 126, 0, 0]);
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, Buffer.alloc(len, fill)]);
}

/** Registers the clean-up: every socket a `socketPair()` made is destroyed after each test of the file. */
export function socketPairs(): () => Promise<[net.Socket, net.Socket]> {
  const open: net.Socket[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.destroy();
  });
  /** A connected pair of loopback sockets: [near, far]. */
  return async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const near = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => near.once('connect', r));
    const far = await accepted;
    server.close();
    open.push(near, far);
    return [near, far];
  };
}
