/**
 * Threat: one hostile WebSocket frame taking `npm run demo` down. The demo runs the emulator's
 * sandbox apps and the gateway in one process, so an app that throws on a frame announcing a
 * 2^63-byte payload used to end everything. Started here as `npm run demo` starts it (without
 * the build), on ephemeral ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let demo: ChildProcess;
let out = '';
const lines = new Map<string, string>();
let exited: number | null | undefined;

beforeAll(async () => {
  demo = spawn(process.execPath, ['--import', 'tsx', 'demo/main.ts'], {
    env: { ...process.env, EMULATOR_PORT: '0', GATE_PORT: '0', DEMO_HOST_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  demo.on('exit', (code) => (exited = code));
  demo.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start in 90 s:\n${out}`)), 90_000);
    demo.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      for (const m of out.matchAll(/^([A-Z_]+)=(.*)$/gm)) lines.set(m[1]!, m[2]!);
      if (lines.has('DEMO_USER')) {
        clearTimeout(timer);
        resolve();
      }
    });
    demo.on('exit', () => reject(new Error(`demo exited:\n${out}`)));
  });
}, 120_000);
afterAll(() => {
  if (demo?.pid && exited === undefined) process.kill(-demo.pid, 'SIGKILL');
});

/** Opens the inspector's /ws through the gateway with the demo's share link; resolves with the socket after the 101. */
function openWs(): Promise<net.Socket> {
  const share = new URL(lines.get('PREVIEW_SHARE_URL')!);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(share.port), '127.0.0.1', () =>
      s.write(
        `GET /ws${share.search} HTTP/1.1\r\nHost: ${share.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      ),
    );
    let head = '';
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve(s);
      else reject(new Error(head));
    };
    s.on('data', onData);
    s.on('error', reject);
  });
}

/** A masked client text frame. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]);
}

describe('the demo under a hostile WebSocket frame', () => {
  it('a frame announcing a 2^63-byte payload is refused by the sandbox app alone: the demo keeps serving', async () => {
    const victim = await openWs();
    const closed = new Promise<void>((r) => victim.on('close', () => r()));
    victim.on('error', () => {});
    // FIN + binary, MASK + 127 (64-bit length), length 2^63, masking key.
    victim.write(Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
    await closed;
    await new Promise((r) => setTimeout(r, 1000));
    expect(exited).toBeUndefined();
    // The gateway still answers, and the same app still echoes on a new connection.
    const health = await fetch(`${lines.get('GATEWAY_URL')!.replace('localhost', '127.0.0.1')}/healthz`);
    expect(health.status).toBe(200);
    const ws = await openWs();
    const echo = new Promise<string>((r) => ws.once('data', (c: Buffer) => r(c.subarray(2).toString())));
    ws.write(textFrame('still-alive'));
    expect(await echo).toBe('still-alive');
    ws.destroy();
  }, 60_000);
});
