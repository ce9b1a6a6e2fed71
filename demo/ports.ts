/**
 * The demo's listening ports, read from the environment and checked together before anything
 * starts: every conflict is reported at once, each with the variable that moves it, instead of
 * one EADDRINUSE per attempt.
 */
import net from 'node:net';

export interface DemoPort {
  /** The environment variable that sets it, e.g. `GATE_PORT`. */
  variable: string;
  /** What listens there, for the message: "the gateway". */
  what: string;
  port: number;
  /** Interface it listens on (the probe binds the same one). */
  host: string;
}

/** Reads `name` (default `fallback`); a malformed value is a message, not a throw. */
export function readPort(name: string, fallback: number): { port: number } | { error: string } {
  const raw = process.env[name]?.trim() || String(fallback);
  const value = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || value > 65535) return { error: `${name} must be a port number (0-65535; 0 picks a free one), got "${raw}"` };
  return { port: value };
}

/** Resolves true when `port` on `host` can be listened on right now (then frees it). */
function free(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** One line per port already taken (port 0 is always free), naming the variable to change. */
export async function portConflicts(ports: DemoPort[]): Promise<string[]> {
  const taken = await Promise.all(ports.map(async (p) => (p.port !== 0 && !(await free(p.port, p.host)) ? p : null)));
  const seen = new Map<number, DemoPort>();
  const lines: string[] = [];
  for (const p of ports) {
    const twin = p.port !== 0 ? seen.get(p.port) : undefined;
    if (twin) lines.push(`  ${p.variable}=${p.port} (${p.what}) is the same port as ${twin.variable}: set one of them to another port.`);
    else if (taken.includes(p))
      lines.push(`  port ${p.port} (${p.what}) is already in use: set ${p.variable} to a free port, e.g. ${p.variable}=0 for any free one.`);
    if (p.port !== 0) seen.set(p.port, p);
  }
  return lines;
}

/** The message for an EADDRINUSE that still happened (another program took the port meanwhile). */
export function inUseMessage(p: DemoPort): string {
  return `port ${p.port} (${p.what}) is already in use: set ${p.variable} to a free port, e.g. ${p.variable}=0 for any free one.`;
}

/** True when something accepts a TCP connection at the URL's host and port (within 1 s). */
export function answers(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
