/** Child processes for the benchmarks: start, read `NAME=VALUE` readiness lines, sample memory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Started {
  child: ChildProcess;
  values: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts `cmd args`, resolves once every name in `wait` was printed as `NAME=VALUE`. */
export function startProcess(cmd: string, args: string[], env: Record<string, string>, wait: string[], timeoutMs = 60_000): Promise<Started> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const values: Record<string, string> = {};
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')} not ready in ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
        if (m) values[m[1]!] = m[2]!;
      }
      if (wait.every((w) => w in values)) {
        clearTimeout(timer);
        resolve({ child, values, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}\n${stderr}`));
    });
  });
}

/** Resident memory of a process and its high-water mark, in MB, from /proc. */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return { rssMb: 0, hwmMb: 0 };
  }
}

/** Children of a process (nginx master → workers), from /proc. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (0 when unavailable). */
export function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** The system (kernel) part of cpuMsOf: time spent in the kernel on the process's behalf (syscalls, socket work), ms. */
export function sysMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[12]) * 1000) / 100;
  } catch {
    return 0;
  }
}

/**
 * Resets a process's peak-RSS counter (VmHWM) so the next `memoryOf(pid).hwmMb` is the peak of
 * what happens from now on (proc(5), clear_refs "5"). Returns false where the kernel refuses.
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** process.memoryUsage() of a process started with bench/memory-probe.mjs: {now, max} in bytes, or null. */
export interface ProbeReading {
  now: NodeJS.MemoryUsage;
  max: Record<'rss' | 'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers', number>;
}

export async function readProbe(pid: number, file: string): Promise<ProbeReading | null> {
  try {
    rmSync(file, { force: true });
    process.kill(pid, 'SIGUSR2');
  } catch {
    return null;
  }
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    try {
      const text = readFileSync(file, 'utf8');
      if (text.endsWith('\n')) return JSON.parse(text) as ProbeReading;
    } catch {
      /* not written yet */
    }
  }
  return null;
}
