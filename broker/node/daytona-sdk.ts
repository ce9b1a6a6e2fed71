/**
 * DaytonaPort over the real @daytonaio/sdk (see /work/shared/reference/daytona.md, "The SDK").
 *
 * - `apiUrl` is passed explicitly when given: the SDK refuses an endpoint that is ambiguous
 *   between the environment and a `.env` file, and the endpoint decides where the key goes.
 * - `useDeprecatedPolling: true`: without it the client opens a Socket.IO connection per client
 *   and per Sandbox object, slows to polling against servers without Socket.IO, and keeps the
 *   process alive; `close()` disposes the client.
 * - `getPreviewLink` needs a Sandbox object (`daytona.get(id)`, one GET) and then one GET per
 *   port. The object only carries the id for that call, so it is cached (default 60 s) and the
 *   link costs one request; a 404 drops it.
 * - Errors: a missing sandbox → null / GateError('sandbox_not_found'); network failures,
 *   timeouts, 5xx, 429 and a refused API key → GateError('daytona_unavailable'). Messages never
 *   carry the API key or a preview token.
 */
import {
  Daytona,
  DaytonaAuthenticationError,
  DaytonaError,
  DaytonaForbiddenError,
  DaytonaNotFoundError,
  type Sandbox,
} from '@daytonaio/sdk';
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
}

export type DaytonaSdkPort = DaytonaPort & { close(): Promise<void> };

/**
 * @example
 * const daytona = createDaytonaPort({ apiUrl: 'http://127.0.0.1:4000/api', apiKey: 'emulator-key' });
 * const { url, token } = await daytona.getPreviewLink(sandboxId, 3000);
 * await daytona.close();
 */
export function createDaytonaPort(opts: DaytonaPortOptions = {}): DaytonaSdkPort {
  const sandboxCacheMs = opts.sandboxCacheMs ?? 60_000;
  const startTimeout = opts.startTimeoutSeconds ?? 60;
  const client = new Daytona({
    ...(opts.apiUrl ? { apiUrl: opts.apiUrl } : {}),
    ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
    ...(opts.target ? { target: opts.target } : {}),
    useDeprecatedPolling: true,
    requestTimeoutMs: opts.requestTimeoutMs ?? 15_000,
  });
  const sandboxes = new Map<string, { sandbox: Promise<Sandbox>; expiresAt: number }>();

  function sandboxObject(id: string): Promise<Sandbox> {
    const cached = sandboxes.get(id);
    if (cached && cached.expiresAt > Date.now()) return cached.sandbox;
    const sandbox = client.get(id);
    sandboxes.set(id, { sandbox, expiresAt: Date.now() + sandboxCacheMs });
    sandbox.catch(() => sandboxes.delete(id));
    if (sandboxes.size > 1000) sandboxes.delete(sandboxes.keys().next().value as string);
    return sandbox;
  }

  function fail(op: string, sandboxId: string, err: unknown): GateError {
    if (err instanceof GateError) return err;
    const status = err instanceof DaytonaError ? err.statusCode : undefined;
    opts.logger?.warn('daytona.api_error', {
      op,
      sandboxId,
      status,
      error: err instanceof Error ? err.name : typeof err,
      message: err instanceof Error ? err.message.slice(0, 200) : undefined,
    });
    if (err instanceof DaytonaNotFoundError) return new GateError('sandbox_not_found', 'The sandbox does not exist.');
    if (err instanceof DaytonaAuthenticationError || err instanceof DaytonaForbiddenError) {
      return new GateError('daytona_unavailable', 'Daytona refused the gateway\'s API key (check DAYTONA_API_KEY).');
    }
    if (status === 400 || status === 422) return new GateError('bad_request', 'Daytona refused the request for this sandbox port.');
    return new GateError('daytona_unavailable', 'The Daytona API is unavailable.');
  }

  return {
    async getSandbox(sandboxId): Promise<SandboxInfo | null> {
      try {
        const sandbox = await client.get(sandboxId);
        sandboxes.set(sandboxId, { sandbox: Promise.resolve(sandbox), expiresAt: Date.now() + sandboxCacheMs });
        return {
          id: sandbox.id,
          state: String(sandbox.state ?? 'unknown'),
          labels: { ...(sandbox.labels ?? {}) },
          public: Boolean(sandbox.public),
        };
      } catch (err) {
        if (err instanceof DaytonaNotFoundError) {
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
        if (err instanceof DaytonaNotFoundError) sandboxes.delete(sandboxId);
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
        if (err instanceof DaytonaNotFoundError) sandboxes.delete(sandboxId);
        throw fail('getSignedPreviewLink', sandboxId, err);
      }
    },

    async startSandbox(sandboxId): Promise<void> {
      try {
        const sandbox = await client.get(sandboxId); // fresh state, not the cached object
        const state = String(sandbox.state ?? '');
        if (state === 'started') return;
        if (state === 'starting' || state === 'restoring' || state === 'pending_build' || state === 'creating') {
          await sandbox.waitUntilStarted(startTimeout);
          return;
        }
        await sandbox.start(startTimeout);
      } catch (err) {
        throw fail('startSandbox', sandboxId, err);
      }
    },

    async close() {
      sandboxes.clear();
      await client[Symbol.asyncDispose]();
    },
  };
}
