/**
 * The emulator's sandboxes: state machine, tokens and port apps. One store serves the API
 * and the proxy, so both see the same sandbox at every instant.
 *
 * Lifecycle (docs/daytona.md, "States"): create and start pass through `starting` for
 * `startingMs` before `started` (the SDK waits on the Socket.IO events, events.ts, or polls);
 * stop closes the port apps. Starting from `stopped` issues a NEW standard token (the old one
 * stops working); starting from `paused` (auto-pause) goes through `resuming` and keeps it;
 * starting from `archived` (no runner) goes through `restoring`, then `starting`, and issues a
 * new one. Signed tokens are independent of restarts and live until their own expiry.
 * Every state change is reported to `onStateChange` (the Socket.IO events).
 */
import { PortApps, DEFAULT_PORTS, type PortBinding } from './ports.js';
import { newSandboxId, newSignedToken, newStandardToken } from './tokens.js';

export type SandboxState =
  | 'starting'
  | 'started'
  | 'stopping'
  | 'stopped'
  | 'destroyed'
  | 'pausing'
  | 'paused'
  | 'resuming'
  | 'archiving'
  | 'archived'
  | 'restoring';

export interface SandboxRecord {
  id: string;
  name: string;
  user: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  public: boolean;
  target: string;
  state: SandboxState;
  createdAt: string;
  updatedAt: string;
  lastActivityAt: string;
  /** How many times the proxy refreshed last activity (the activity clock tests read). */
  activityUpdates: number;
  /** Until then (epoch ms) the runner does not know the container: the proxy answers 404 (a move between runners). */
  movingUntil: number;
  /** The standard preview token (`nanoid(32).toLowerCase()`), rotated on start from stopped. */
  token: string;
  bindings: Map<number, PortBinding>;
  apps: PortApps;
  /** Serialises lifecycle operations on this sandbox. */
  transition: Promise<void>;
}

export interface SignedTokenRecord {
  token: string;
  sandboxId: string;
  port: number;
  expiresAt: number;
}

export interface CreateParams {
  name?: string;
  user?: string;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  public?: boolean;
  target?: string;
  ports?: Record<number, PortBinding>;
}

/** States from which `start` has nothing to do but wait. */
const ON_THE_WAY_UP: ReadonlySet<SandboxState> = new Set(['started', 'starting', 'resuming', 'restoring']);

export const ORGANIZATION_ID = '00000000-0000-4000-8000-00000000e4a1';

export class SandboxStore {
  private readonly byId = new Map<string, SandboxRecord>();
  private readonly signed = new Map<string, SignedTokenRecord>();
  /** Expired or revoked signed tokens, kept a while so a cached check can still name their sandbox. */
  private readonly forgotten = new Map<string, SignedTokenRecord>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private closed = false;

  /** Called after every state change (the emulator's Socket.IO events). */
  onStateChange: ((record: SandboxRecord, oldState: SandboxState) => void) | null = null;
  /** Called when a sandbox is created. */
  onCreated: ((record: SandboxRecord) => void) | null = null;

  constructor(private readonly startingMs: number) {}

  /** Creates a sandbox in `starting`; the returned promise settles when it is `started`. */
  create(params: CreateParams, delayMs = this.startingMs): { record: SandboxRecord; started: Promise<void> } {
    const id = newSandboxId();
    const now = new Date().toISOString();
    const bindings = new Map<number, PortBinding>();
    for (const [port, binding] of Object.entries({ ...DEFAULT_PORTS, ...(params.ports ?? {}) })) bindings.set(Number(port), binding);
    const record: SandboxRecord = {
      id,
      name: params.name || id,
      user: params.user || 'daytona',
      env: params.env ?? {},
      labels: params.labels ?? {},
      public: params.public === true,
      target: params.target || 'us',
      state: 'starting',
      createdAt: now,
      updatedAt: now,
      lastActivityAt: now,
      activityUpdates: 0,
      movingUntil: 0,
      token: newStandardToken(),
      bindings,
      apps: new PortApps(),
      transition: Promise.resolve(),
    };
    this.byId.set(id, record);
    this.onCreated?.(record);
    const started = this.enqueue(record, () => this.bringUp(record, delayMs));
    return { record, started };
  }

  /** A live (not deleted) sandbox by id or name. */
  get(idOrName: string): SandboxRecord | undefined {
    const direct = this.byId.get(idOrName);
    if (direct) return direct;
    for (const r of this.byId.values()) if (r.name === idOrName) return r;
    return undefined;
  }

  /** A live sandbox by id only (preview hosts carry ids, never names). */
  getById(id: string): SandboxRecord | undefined {
    return this.byId.get(id);
  }

  list(): SandboxRecord[] {
    return [...this.byId.values()];
  }

  /**
   * Starts a stopped, paused or archived sandbox; a no-op when already started or on its way.
   * From stopped or archived: a new standard token; from paused: the same one (docs/daytona.md).
   */
  start(record: SandboxRecord, delayMs = this.startingMs): Promise<void> {
    const leave = (): void => {
      if (record.state === 'stopped') {
        record.token = newStandardToken();
        this.setState(record, 'starting');
      } else if (record.state === 'paused') this.setState(record, 'resuming');
      else if (record.state === 'archived') {
        record.token = newStandardToken();
        this.setState(record, 'restoring');
      }
    };
    if (ON_THE_WAY_UP.has(record.state)) return record.transition;
    leave();
    return this.enqueue(record, async () => {
      leave();
      if (record.state === 'restoring') {
        if (delayMs > 0) await this.sleep(delayMs);
        if (this.closed || record.state !== 'restoring') return;
        this.setState(record, 'starting');
      }
      if (record.state === 'starting' || record.state === 'resuming') await this.bringUp(record, delayMs);
    });
  }

  /** Pauses a started sandbox (its apps stop; its standard token survives the resume). */
  pause(record: SandboxRecord): Promise<void> {
    if (record.state === 'started') this.setState(record, 'pausing');
    return this.enqueue(record, async () => {
      if (record.state !== 'pausing' && record.state !== 'started') return;
      this.setState(record, 'pausing');
      await record.apps.closeAll();
      this.setState(record, 'paused');
    });
  }

  /** Archives a stopped sandbox: it loses its runner (the proxy answers "does not have a runner"). */
  archive(record: SandboxRecord): Promise<void> {
    if (record.state === 'stopped') this.setState(record, 'archiving');
    return this.enqueue(record, async () => {
      if (record.state !== 'archiving' && record.state !== 'stopped') return;
      this.setState(record, 'archiving');
      this.setState(record, 'archived');
    });
  }

  stop(record: SandboxRecord): Promise<void> {
    if (record.state === 'stopped' || record.state === 'archived') return record.transition;
    if (record.state === 'started') this.setState(record, 'stopping');
    return this.enqueue(record, async () => {
      if (record.state === 'stopped' || record.state === 'destroyed' || record.state === 'archived') return;
      this.setState(record, 'stopping');
      await record.apps.closeAll();
      this.setState(record, 'stopped');
    });
  }

  /** Deletes at once: the proxy answers 404 from now on, as for a container that is gone. */
  async delete(record: SandboxRecord): Promise<void> {
    this.byId.delete(record.id);
    this.setState(record, 'destroyed');
    await record.apps.closeAll();
  }

  async bindPort(record: SandboxRecord, port: number, binding: PortBinding): Promise<void> {
    record.bindings.set(port, binding);
    await record.transition;
    if (record.state === 'started') await record.apps.open(port, binding);
  }

  touch(record: SandboxRecord): void {
    record.lastActivityAt = new Date().toISOString();
    record.activityUpdates++;
  }

  setPublic(record: SandboxRecord, isPublic: boolean): void {
    record.public = isPublic;
    record.updatedAt = new Date().toISOString();
  }

  setLabels(record: SandboxRecord, labels: Record<string, string>): void {
    record.labels = labels;
    record.updatedAt = new Date().toISOString();
  }

  issueSigned(record: SandboxRecord, port: number, ttlSeconds: number): SignedTokenRecord {
    const entry = { token: newSignedToken(), sandboxId: record.id, port, expiresAt: Date.now() + ttlSeconds * 1000 };
    this.signed.set(entry.token, entry);
    return entry;
  }

  /** A signed token that exists and has not expired; expired ones are forgotten. */
  lookupSigned(token: string): SignedTokenRecord | null {
    const entry = this.signed.get(token);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.forget(entry);
      return null;
    }
    return entry;
  }

  /** A signed token's record even after it expired or was revoked (for Daytona's check cache), while remembered. */
  signedRecord(token: string): SignedTokenRecord | null {
    return this.signed.get(token) ?? this.forgotten.get(token) ?? null;
  }

  expireSigned(token: string): void {
    const entry = this.signed.get(token);
    if (entry) this.forget(entry);
  }

  private forget(entry: SignedTokenRecord): void {
    this.signed.delete(entry.token);
    this.forgotten.set(entry.token, entry);
    if (this.forgotten.size > 1000) this.forgotten.delete(this.forgotten.keys().next().value as string);
  }

  /** The live signed tokens of one sandbox. */
  signedOf(sandboxId: string): string[] {
    return [...this.signed.values()].filter((e) => e.sandboxId === sandboxId && e.expiresAt > Date.now()).map((e) => e.token);
  }

  /** Expires every signed token of one sandbox; returns how many were live. */
  expireSignedOf(sandboxId: string): number {
    const tokens = this.signedOf(sandboxId);
    for (const t of tokens) this.expireSigned(t);
    return tokens.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    // Wake pending `starting` delays so nothing awaiting them hangs; bringUp sees `closed`.
    for (const [t, wake] of this.timers) {
      clearTimeout(t);
      wake();
    }
    this.timers.clear();
    await Promise.all([...this.byId.values()].map((r) => r.apps.closeAll()));
  }

  private enqueue(record: SandboxRecord, step: () => Promise<void>): Promise<void> {
    const next = record.transition.then(step, step);
    record.transition = next.catch(() => undefined);
    return next;
  }

  private async bringUp(record: SandboxRecord, delayMs: number): Promise<void> {
    if (delayMs > 0) await this.sleep(delayMs);
    const from = record.state;
    if (this.closed || (from !== 'starting' && from !== 'resuming')) return;
    for (const [port, binding] of record.bindings) await record.apps.open(port, binding);
    if (this.closed || (record.state as SandboxState) !== from) return void (await record.apps.closeAll());
    this.setState(record, 'started');
  }

  private setState(record: SandboxRecord, state: SandboxState): void {
    const old = record.state;
    record.state = state;
    record.updatedAt = new Date().toISOString();
    if (old !== state) this.onStateChange?.(record, old);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.set(t, resolve);
    });
  }
}
