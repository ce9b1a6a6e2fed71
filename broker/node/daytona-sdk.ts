/**
 * DaytonaPort over the real @daytonaio/sdk (docs/daytona.md, "The SDK").
 *
 * - `apiUrl` is passed explicitly when given: the SDK refuses an endpoint that is ambiguous
 *   between the environment and a `.env` file, and the endpoint decides where the key goes.
 * - The SDK's default mode: one Socket.IO connection per client (Daytona's events), so
 *   `startSandbox` completes on the state event instead of polling; `close()` disposes the
 *   client, which lets the process exit. (`useDeprecatedPolling` is deprecated in the SDK.)
 * - The same SDK is also published as `@daytona/sdk` (same API). Pass its client as `client`
 *   (`createDaytonaPort({ client: new Daytona({...}) })` with `Daytona` from either package):
 *   nothing here depends on which package made it, errors are told apart by `statusCode`, not
 *   by class identity.
 * - Preview links need a Sandbox object (`daytona.get(id)`, one GET) and then one GET per
 *   port. The object only carries the id for those calls, so it is cached (default 60 s) and a
 *   link costs one request; a 404 drops it.
 * - Every Sandbox object the SDK makes (`client.get`) subscribes to Daytona's events for that
 *   sandbox and is held by the SDK's subscription manager for 5 minutes (its SUBSCRIPTION_TTL),
 *   about 12 KB each with its API clients: at a launch a second that is minutes of objects
 *   nobody uses (measured by `npm run soak`'s heap snapshots, README "Reliability and
 *   security"). So only the cached object keeps its subscription; every other one is released
 *   (`release`) as soon as the gateway is done with it, and a replaced cached one too.
 * - Errors: a missing sandbox → null / GateError('sandbox_not_found'); network failures,
 *   timeouts, 5xx, 429 and a refused API key → GateError('daytona_unavailable'). Messages never
 *   carry the API key or a preview token.
 */
import { Daytona } from '@daytonaio/sdk';
import { GateError } from '../../protocol/index.js';
import type { DaytonaPort, Logger, PreviewLink, SandboxInfo } from '../core/contracts.js';

export interface DaytonaPortOptions {
  /** Daytona API URL, e.g. `http://127.0.0.1:4000/api`. Default: the SDK's (DAYTONA_API_URL or app.daytona.io). */
  apiUrl?: string;
  /** API key. Default: the SDK's (DAYTONA_API_KEY). */
  apiKey?: string;
  /** Daytona target (region). Default: the SDK's (DAYTONA_TARGET). */
  target?: string;
  /** Per-request timeout of API calls. Default 15 s (the SDK's own default is 24 h). */
  requestTimeoutMs?: number;
  /** How long a Sandbox object is reused for preview-link calls. Default 60 s. */
  sandboxCacheMs?: number;
  /** Seconds `startSandbox` waits for the sandbox to reach `started`. Default 60. */
  startTimeoutSeconds?: number;
  logger?: Logger;
  /**
   * A ready SDK client (from `@daytonaio/sdk` or `@daytona/sdk`); then `apiUrl`, `apiKey`,
   * `target` and `requestTimeoutMs` are the caller's business, and `close()` disposes it.
   */
  client?: DaytonaClientLike;
}

/** The few SDK calls the gateway makes; both published SDK packages fit. */
export interface SandboxLike {
  id: string;
  state?: unknown;
  labels?: Record<string, string>;
  public?: boolean;
  getPreviewLink(port: number): Promise<{ url: string; token: string }>;
  getSignedPreviewUrl(port: number, expiresInSeconds?: number): Promise<{ url: string; token: string }>;
  start(timeout?: number): Promise<void>;
  waitUntilStarted(timeout?: number): Promise<void>;
}

export interface DaytonaClientLike {
  get(idOrName: string): Promise<SandboxLike>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The HTTP status an SDK error carries (`DaytonaError.statusCode`), whichever package threw it. */
function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

const isNotFound = (err: unknown): boolean => statusOf(err) === 404;

export type DaytonaSdkPort = DaytonaPort & { close(): Promise<void> };

/**
 * Ends the SDK's event subscription of a Sandbox object the gateway no longer uses (see the
 * header). The SDK has no public call for it short of deleting the sandbox, so this reads its
 * fields by name; an SDK without them is left as it is. A later SDK call on the object
 * subscribes again by itself (`ensureSubscribed`).
 */
export function releaseSandboxObject(sandbox: unknown): void {
  const s = sandbox as { subId?: unknown; subscriptionManager?: { unsubscribe?: (id: string) => void } } | null;
  if (!s || typeof s.subId !== 'string' || !s.subId || typeof s.subscriptionManager?.unsubscribe !== 'function') return;
  s.subscriptionManager.unsubscribe(s.subId);
  s.subId = undefined;
}

/**
 * @example
 * const daytona = createDaytonaPort({ apiUrl: 'http://127.0.0.1:4000/api', apiKey: 'emulator-key' });
 * const { url, token } = await daytona.getPreviewLink(sandboxId, 3000);
 * await daytona.close();
 */
export function createDaytonaPort(opts: DaytonaPortOptions = {}): DaytonaSdkPort {
  const sandboxCacheMs = opts.sandboxCacheMs ?? 60_000;
  const startTimeout = opts.startTimeoutSeconds ?? 60;
  const client: DaytonaClientLike =
    opts.client ??
    new Daytona({
      ...(opts.apiUrl ? { apiUrl: opts.apiUrl } : {}),
      ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
      ...(opts.target ? { target: opts.target } : {}),
      requestTimeoutMs: opts.requestTimeoutMs ?? 15_000,
    });
  const sandboxes = new Map<string, { sandbox: Promise<SandboxLike>; expiresAt: number }>();

  /** Caches `sandbox` for `id`, releasing the object it replaces (and one evicted at the bound). */
  function cache(id: string, sandbox: Promise<SandboxLike>): void {
    const old = sandboxes.get(id);
    sandboxes.delete(id);
    sandboxes.set(id, { sandbox, expiresAt: Date.now() + sandboxCacheMs });
    if (old && old.sandbox !== sandbox) old.sandbox.then(releaseSandboxObject, () => {});
    if (sandboxes.size > 1000) {
      const [oldestId, oldest] = sandboxes.entries().next().value as [string, { sandbox: Promise<SandboxLike> }];
      sandboxes.delete(oldestId);
      oldest.sandbox.then(releaseSandboxObject, () => {});
    }
  }

  function sandboxObject(id: string): Promise<SandboxLike> {
    const cached = sandboxes.get(id);
    if (cached && cached.expiresAt > Date.now()) return cached.sandbox;
    const sandbox = client.get(id);
    cache(id, sandbox);
    sandbox.catch(() => {
      if (sandboxes.get(id)?.sandbox === sandbox) sandboxes.delete(id);
    });
    return sandbox;
  }

  function fail(op: string, sandboxId: string, err: unknown): GateError {
    if (err instanceof GateError) return err;
    const status = statusOf(err);
    opts.logger?.warn('daytona.api_error', {
      op,
      sandboxId,
      status,
      error: err instanceof Error ? err.name : typeof err,
      message: err instanceof Error ? err.message.slice(0, 200) : undefined,
    });
    if (status === 404) return new GateError('sandbox_not_found', 'The sandbox does not exist.');
    if (status === 401 || status === 403) {
      return new GateError('daytona_unavailable', "Daytona refused the gateway's API key (check DAYTONA_API_KEY).");
    }
    if (status === 400 || status === 422) return new GateError('bad_request', 'Daytona refused the request for this sandbox port.');
    return new GateError('daytona_unavailable', 'The Daytona API is unavailable.');
  }

  return {
    async getSandbox(sandboxId): Promise<SandboxInfo | null> {
      try {
        const sandbox = await client.get(sandboxId);
        cache(sandboxId, Promise.resolve(sandbox));
        return {
          id: sandbox.id,
          state: String(sandbox.state ?? 'unknown'),
          labels: { ...(sandbox.labels ?? {}) },
          public: Boolean(sandbox.public),
        };
      } catch (err) {
        if (isNotFound(err)) {
          sandboxes.delete(sandboxId);
          return null;
        }
        throw fail('getSandbox', sandboxId, err);
      }
    },

    async getPreviewLink(sandboxId, port): Promise<PreviewLink> {
      try {
        const sandbox = await sandboxObject(sandboxId);
        const link = await sandbox.getPreviewLink(port);
        return { url: link.url, token: link.token };
      } catch (err) {
        if (isNotFound(err)) sandboxes.delete(sandboxId);
        throw fail('getPreviewLink', sandboxId, err);
      }
    },

    async getSignedPreviewLink(sandboxId, port, expiresInSeconds): Promise<PreviewLink> {
      // Measured from before the call: the link is renewed early rather than used late.
      const expiresAt = Date.now() + expiresInSeconds * 1000;
      try {
        const sandbox = await sandboxObject(sandboxId);
        const link = await sandbox.getSignedPreviewUrl(port, expiresInSeconds);
        return { url: link.url, token: link.token, signed: true, expiresAt };
      } catch (err) {
        if (isNotFound(err)) sandboxes.delete(sandboxId);
        throw fail('getSignedPreviewLink', sandboxId, err);
      }
    },

    async startSandbox(sandboxId): Promise<void> {
      try {
        const sandbox = await client.get(sandboxId); // fresh state, not the cached object
        try {
          const state = String(sandbox.state ?? '');
          if (state === 'started') return;
          // On its way up already (paused sandboxes go through `resuming`, archived ones through
          // `restoring`): wait for it rather than ask again.
          if (['starting', 'restoring', 'resuming', 'pending_build', 'pulling_snapshot', 'creating'].includes(state)) {
            await sandbox.waitUntilStarted(startTimeout);
            return;
          }
          await sandbox.start(startTimeout);
        } finally {
          releaseSandboxObject(sandbox);
        }
      } catch (err) {
        throw fail('startSandbox', sandboxId, err);
      }
    },

    async close() {
      for (const { sandbox } of sandboxes.values()) sandbox.then(releaseSandboxObject, () => {});
      sandboxes.clear();
      await client[Symbol.asyncDispose]();
    },
  };
}
