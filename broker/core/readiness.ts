/**
 * Readiness (`GET /readyz`): may this instance take new traffic? Liveness stays `/healthz`
 * (200 while the process runs). Not ready when:
 *  - it is draining (SIGTERM/SIGINT, or `RunningGateway.drain()` in broker/node/server.ts): at
 *    once, with no probe;
 *  - a dependency probe failed: the store's `ping` (Redis: PING; memory: always fine) and the Daytona
 *    API (one `getSandbox` of a made-up id: a 404 proves the API answers and accepts the key).
 *
 * Probes run only when /readyz is asked, at most once per `cacheMs` each (single-flight, a hung
 * probe counts as failed after `timeoutMs`), so a load balancer polling every second costs one
 * Daytona call per `cacheMs`, and the request hot path never waits on them. Portable: no `node:`.
 */
import type { Clock, DaytonaPort } from './contracts.js';
import type { Store } from './store/store.js';

export interface ReadinessProbe {
  /** Name in the report (`store`, `daytona`). */
  name: string;
  /** Resolves when the dependency is reachable; throws (any error) when it is not. */
  check(): Promise<void>;
}

export interface ReadinessReport {
  /** `ready` (200), `draining` or `unavailable` (503). */
  status: 'ready' | 'draining' | 'unavailable';
  /** Why not ready (absent when ready). */
  reason?: string;
  /** Each probe: `ok`, or what failed. Not asked while draining. */
  checks: Record<string, string>;
}

export interface Readiness {
  /** From now on /readyz answers 503 `draining`. One-way: a draining instance never becomes ready again. */
  startDraining(): void;
  readonly draining: boolean;
  report(): Promise<ReadinessReport>;
}

export interface ReadinessOptions {
  probes: ReadinessProbe[];
  clock?: Clock;
  /** How long a probe's answer (success or failure) is reused. Default 5000 ms. */
  cacheMs?: number;
  /** A probe not settled after this long counts as failed. Default 2000 ms. */
  timeoutMs?: number;
}

/** A sandbox id no one has: Daytona answers 404 to a reachable, authenticated caller. */
export const READINESS_PROBE_SANDBOX = 'preview-gate-readiness-probe';

/** The default probes: the store's `ping` when it has one, and the Daytona API. */
export function defaultProbes(store: Store, daytona: DaytonaPort): ReadinessProbe[] {
  const probes: ReadinessProbe[] = [];
  if (typeof store.ping === 'function') probes.push({ name: 'store', check: () => store.ping!() });
  probes.push({
    name: 'daytona',
    check: async () => {
      await daytona.getSandbox(READINESS_PROBE_SANDBOX); // null (404) or a sandbox: both mean reachable
    },
  });
  return probes;
}

/** Only the error's code or name goes out: never a message that could carry a URL or a key. */
function describe(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^[a-z_]{1,40}$/i.test(code)) return code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && /^[A-Za-z]{1,40}$/.test(name)) return name === 'Error' ? 'unreachable' : name;
  }
  return 'unreachable';
}

/**
 * @example
 * const readiness = createReadiness({ probes: defaultProbes(store, daytona) });
 * (await readiness.report()).status; // 'ready'
 * readiness.startDraining();
 * (await readiness.report()).status; // 'draining'
 */
export function createReadiness(opts: ReadinessOptions): Readiness {
  const clock = opts.clock ?? Date.now;
  const cacheMs = opts.cacheMs ?? 5000;
  const timeoutMs = opts.timeoutMs ?? 2000;
  const cached = new Map<string, { at: number; result: string }>();
  const inFlight = new Map<string, Promise<string>>();
  let draining = false;

  function run(probe: ReadinessProbe): Promise<string> {
    const hit = cached.get(probe.name);
    if (hit && clock() - hit.at < cacheMs) return Promise.resolve(hit.result);
    const running = inFlight.get(probe.name);
    if (running) return running;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const p = Promise.race([
      probe.check().then(
        () => 'ok',
        (err: unknown) => describe(err),
      ),
      timeout,
    ]).then((result) => {
      clearTimeout(timer);
      cached.set(probe.name, { at: clock(), result });
      inFlight.delete(probe.name);
      return result;
    });
    inFlight.set(probe.name, p);
    return p;
  }

  return {
    startDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
    async report() {
      if (draining) return { status: 'draining', reason: 'draining: this instance is shutting down', checks: {} };
      const results = await Promise.all(opts.probes.map(async (p) => [p.name, await run(p)] as const));
      const checks = Object.fromEntries(results);
      const failed = results.filter(([, r]) => r !== 'ok');
      // Draining may have begun while the probes ran: say so rather than "ready".
      if (draining) return { status: 'draining', reason: 'draining: this instance is shutting down', checks };
      if (failed.length === 0) return { status: 'ready', checks };
      return { status: 'unavailable', reason: failed.map(([n, r]) => `${n}: ${r}`).join(', '), checks };
    },
  };
}
