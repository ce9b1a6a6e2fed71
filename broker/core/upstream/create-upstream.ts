/**
 * The upstream side of the gateway: from "an authenticated request for sandbox S port P" to
 * Daytona's preview proxy and back. See index.ts for the flow and the options.
 */
import { GateError, type PreviewTarget } from '../../../protocol/index.js';
import type {
  Clock,
  AbortLike,
  DaytonaPort,
  FetchLike,
  ForwardMeta,
  Logger,
  Metrics,
  PreviewLink,
  Principal,
  Upstream,
  WebSocketTargetOptions,
} from '../contracts.js';
import { METRIC } from '../metrics.js';
import { createSandboxStarter, type SandboxStarter } from './auto-start.js';
import { classifyDaytonaError, isIdentityProviderRedirect, mayBeDaytonaError, peekBody, PEEK_LIMIT, type DaytonaVerdict } from './daytona-answers.js';
import { buildUpstreamInit, buildUpstreamRequest, daytonaHeaders, isEventStream, type ActivityUpdates } from './forward.js';
import { createLinkCache, type LinkCache, type LinkCacheOptions } from './link-cache.js';
import { sanitizeResponse, type HygieneContext } from './sanitize-response.js';
import { DEFAULT_REPLAY_LIMIT, prepareBody, type PreparedBody } from './retry.js';
import { parsedUrlOf } from '../request-host.js';

export interface UpstreamDeps {
  daytona: DaytonaPort;
  fetch: FetchLike;
  clock?: Clock;
  metrics?: Metrics;
  logger?: Logger;
  /** The gateway's public preview origin of a sandbox port (for `Location` rewriting). */
  previewOrigin(target: PreviewTarget): string;
  /** Start a stopped sandbox on access and answer `sandbox_starting` meanwhile. Default false. */
  autoStart?: boolean;
  /** Preview-link cache: `maxEntries` default 1000, `ttlMs` default 10 minutes. */
  linkCache?: LinkCacheOptions;
  /** Largest request body kept in memory so the request can be repeated once. Default 1 MiB. */
  replayLimit?: number;
  /** Lifetime asked for each signed preview URL (renewed after two thirds). Default 900 s. */
  signedUrlSeconds?: number;
  /**
   * Which traffic refreshes the sandbox's last activity at Daytona (GATE_ACTIVITY_UPDATES):
   * `requests` (default: plain requests do, WebSockets and event streams do not), `all`, `never`.
   */
  activityUpdates?: ActivityUpdates;
}

/** 15 minutes: renewed after 10 (the link cache's TTL), so at most 6 API calls per hour per port in use. */
export const DEFAULT_SIGNED_URL_SECONDS = 900;

/** `Upstream` plus the handles tests and the Node entry may use. */
export interface GateUpstream extends Upstream {
  readonly links: LinkCache;
  /**
   * What to answer when Daytona says the sandbox is stopped on a path that is not `forward()`
   * (the WebSocket relay): forgets its links, starts it when `autoStart` is on, and returns
   * GateError 'sandbox_starting' (Retry-After: 1) or 'sandbox_stopped'.
   */
  sandboxStopped(sandboxId: string): GateError;
  /** Daytona's proxy said 404 for the sandbox: asks the API before saying `sandbox_not_found` (WebSocket relay). */
  confirmGone(sandboxId: string): Promise<GateError>;
}

/** What prepareBody gives a GET or HEAD (their body is never forwarded). */
const NO_BODY: PreparedBody = Object.freeze({ replayable: true, bytes: null });

/** One upstream exchange; `abort()` stops it (e.g. a body still streaming to a refused request). */
type Attempt = { response: Response; verdict: DaytonaVerdict; abort(): void };

export function createUpstream(deps: UpstreamDeps): GateUpstream {
  if (typeof deps.previewOrigin !== 'function') throw new TypeError('createUpstream: previewOrigin(target) is required');
  const replayLimit = deps.replayLimit ?? DEFAULT_REPLAY_LIMIT;
  if (!(replayLimit >= 0)) throw new TypeError('createUpstream: replayLimit must be a number of bytes');
  const { metrics, logger } = deps;
  const clock = deps.clock ?? Date.now;
  const signedSeconds = deps.signedUrlSeconds ?? DEFAULT_SIGNED_URL_SECONDS;
  if (!(Number.isInteger(signedSeconds) && signedSeconds >= 60 && signedSeconds <= 86_400)) {
    throw new TypeError('createUpstream: signedUrlSeconds must be an integer between 60 and 86400');
  }
  const daytona = deps.daytona;
  const activity = deps.activityUpdates ?? 'requests';
  if (activity !== 'all' && activity !== 'requests' && activity !== 'never') {
    throw new TypeError('createUpstream: activityUpdates must be all, requests or never');
  }
  /** Whether Daytona is asked not to refresh last activity for this exchange. */
  const skipActivity = (longLived: boolean): boolean => activity === 'never' || (activity === 'requests' && longLived);
  // The gateway's upstream credential is a signed preview URL whenever the port can make one:
  // whatever an app can read of it (its own host in X-Forwarded-Host) opens only the port the
  // app already serves. ARCHITECTURE.md flow 13 has the reasoning and the figures.
  const loadLink = daytona.getSignedPreviewLink
    ? (target: PreviewTarget) =>
        (daytona.getSignedPreviewLink as NonNullable<DaytonaPort['getSignedPreviewLink']>)(target.sandboxId, target.port, signedSeconds)
    : (target: PreviewTarget) => daytona.getPreviewLink(target.sandboxId, target.port);
  const links = createLinkCache({
    load: loadLink,
    clock,
    ...(metrics ? { metrics } : {}),
    ...(logger ? { logger } : {}),
    ...(deps.linkCache ? { options: deps.linkCache } : {}),
  });
  const starter: SandboxStarter | null = deps.autoStart
    ? createSandboxStarter({
        daytona: deps.daytona,
        ...(logger ? { logger } : {}),
        onStarted: (sandboxId) => links.invalidateSandbox(sandboxId),
      })
    : null;

  const startingError = () => new GateError('sandbox_starting', 'The sandbox is starting; this page reloads by itself.', { 'Retry-After': '1' });

  function sandboxStopped(sandboxId: string): GateError {
    links.invalidateSandbox(sandboxId); // a start issues a new standard token
    if (starter) {
      starter.wake(sandboxId);
      return startingError();
    }
    return new GateError('sandbox_stopped', 'The sandbox is stopped. Start it, then reload this page.');
  }

  /**
   * Daytona's proxy said 404 for the sandbox. It also says so for a moment while a sandbox moves
   * between runners (docs/daytona.md, "Caching"), so the API decides: gone → `sandbox_not_found`
   * and its links dropped; there but not started → stopped; there and started → a transient
   * `upstream_unavailable` with Retry-After, links kept; API unreachable → its error, links kept.
   */
  async function confirmGone(sandboxId: string): Promise<GateError> {
    let info: Awaited<ReturnType<DaytonaPort['getSandbox']>>;
    try {
      info = await deps.daytona.getSandbox(sandboxId);
    } catch (err) {
      return err instanceof GateError ? err : new GateError('daytona_unavailable', 'The Daytona API is unavailable.');
    }
    if (info === null) {
      links.invalidateSandbox(sandboxId);
      return new GateError('sandbox_not_found', 'The sandbox does not exist (any more).');
    }
    if (info.state !== 'started') return sandboxStopped(sandboxId);
    logger?.warn('upstream.sandbox.not_found_transient', { sandboxId });
    return new GateError('upstream_unavailable', 'Daytona cannot find the sandbox on its machine for a moment; try again.', { 'Retry-After': '1' });
  }

  async function attempt(request: Request, publicUrl: URL, link: PreviewLink, body: PreparedBody, meta: ForwardMeta | undefined): Promise<Attempt> {
    const started = clock();
    // The client's abort ends the exchange; so does our own when we drop Daytona's answer while
    // a streamed request body may still be flowing into it (a kept body is small: let it finish).
    // A replayable body on the fetch.send path listens to the edge's cheaper hook when it has
    // one (ForwardMeta.clientAbort), never reading the request's AbortSignal.
    let signal: AbortSignal | AbortLike = body.replayable && deps.fetch.send && meta?.clientAbort ? meta.clientAbort : request.signal;
    let abort = () => {};
    if (!body.replayable) {
      const own = new AbortController();
      abort = () => own.abort();
      signal = AbortSignal.any([request.signal, own.signal]);
    }
    let response: Response;
    const skip = skipActivity(isEventStream(request.headers));
    try {
      response = deps.fetch.send
        ? await deps.fetch.send(buildUpstreamInit(request, publicUrl, link, body, signal, meta, skip))
        : await deps.fetch(buildUpstreamRequest(request, publicUrl, link, body, signal as AbortSignal, meta, skip));
    } catch (err) {
      throw fetchFailure(err, request.signal);
    }
    metrics?.observe(METRIC.upstreamResponse, (clock() - started) / 1000);
    if (isIdentityProviderRedirect(response, link.url)) return { response, verdict: { kind: 'rejected', redirect: true }, abort };
    if (!mayBeDaytonaError(response)) return { response, verdict: { kind: 'app' }, abort };
    let peeked: Awaited<ReturnType<typeof peekBody>>;
    try {
      peeked = await peekBody(response.body, PEEK_LIMIT);
    } catch (err) {
      throw fetchFailure(err, request.signal);
    }
    const rebuilt = new Response(peeked.body as BodyInit | null, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    const verdict = peeked.text === null ? ({ kind: 'app' } as const) : classifyDaytonaError(response.status, peeked.text);
    return { response: rebuilt, verdict, abort };
  }

  async function forward(request: Request, target: PreviewTarget, _principal: Principal, meta?: ForwardMeta) {
    if (starter?.isStarting(target.sandboxId)) throw startingError();
    const publicUrl = parsedUrlOf(request);
    // A GET or HEAD has no body to prepare, and a cached link is at hand: neither waits on a promise.
    const body = request.method === 'GET' || request.method === 'HEAD' ? NO_BODY : await prepareBody(request, replayLimit);
    let link = links.peek(target) ?? (await links.get(target));
    let outcome = await attempt(request, publicUrl, link, body, meta);

    if (outcome.verdict.kind === 'rejected') {
      // Daytona refused the cached link: a signed URL expired or was revoked (or, for a standard
      // link, the sandbox restarted): docs/daytona.md, "Identifiers, tokens, states".
      discard(outcome);
      metrics?.inc(METRIC.upstreamTokenRejected);
      const fresh = await links.refresh(target, link.token);
      if (!body.replayable) {
        throw new GateError('daytona_unavailable', 'The sandbox changed its preview credentials during this upload; send it again.', {
          'Retry-After': '1',
        });
      }
      // No fresh link (refreshed moments ago) or the same token again: repeating cannot help.
      if (fresh === null || fresh.token === link.token) throw rejectedError();
      logger?.info('upstream.retry', { sandboxId: target.sandboxId, port: target.port, reason: 'token_rejected' });
      metrics?.inc(METRIC.upstreamRetries, { reason: 'token_rejected' });
      link = fresh;
      outcome = await attempt(request, publicUrl, link, body, meta);
      if (outcome.verdict.kind === 'rejected') {
        discard(outcome);
        throw rejectedError();
      }
    }

    switch (outcome.verdict.kind) {
      case 'stopped':
        discard(outcome);
        throw sandboxStopped(target.sandboxId);
      case 'gone':
        discard(outcome);
        throw await confirmGone(target.sandboxId);
      case 'runner_unreachable':
        discard(outcome);
        throw new GateError('upstream_unavailable', 'Daytona cannot reach the machine that runs this sandbox.');
      case 'not_listening':
        discard(outcome);
        throw appNotListening(target.port);
      default: {
        const ctx: HygieneContext = { target, link, previewOrigin: deps.previewOrigin };
        return sanitizeResponse(outcome.response, ctx);
      }
    }
  }

  async function webSocketTarget(target: PreviewTarget, path: string, options?: WebSocketTargetOptions) {
    if (starter?.isStarting(target.sandboxId)) throw startingError();
    let link = await links.get(target);
    if (options?.fresh) link = (await links.refresh(target, link.token)) ?? link;
    const base = new URL(link.url);
    const suffix = path.startsWith('/') ? path : `/${path}`;
    return { url: base.origin.replace(/^http/, 'ws') + suffix, headers: daytonaHeaders(link, skipActivity(true)) };
  }

  return { forward, webSocketTarget, links, sandboxStopped, confirmGone };
}

/**
 * Daytona's bare 502: the sandbox runs, nothing listens on the port (a dev server still
 * starting, or stopped). Coded so a program can retry and a browser gets the waiting page that
 * turns into the app by itself (broker/core/http/pages.ts, sw/page/waiting.ts).
 */
export function appNotListening(port: number): GateError {
  return new GateError(
    'app_not_listening',
    `Nothing is listening on port ${port} in the sandbox yet (or the app dropped the request); it may still be starting.`,
    {
      'Retry-After': '2',
    },
  );
}

function rejectedError(): GateError {
  return new GateError('daytona_unavailable', "Daytona does not accept the gateway's preview token for this sandbox.", {
    'Retry-After': '5',
  });
}

/** Drops an upstream answer we will not forward, stopping any request body still in flight. */
function discard(attempt: Attempt): void {
  attempt.abort();
  attempt.response.body?.cancel().catch(() => {});
}

/** Maps a failed fetch to a coded error; a client abort stays an abort. */
function fetchFailure(err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) {
    // @hono/node-server aborts with a string reason; callers test `name === 'AbortError'`.
    return signal.reason instanceof Error ? signal.reason : new DOMException(String(signal.reason ?? 'aborted'), 'AbortError');
  }
  if (err instanceof GateError) return err;
  if (err instanceof Error && err.name === 'TimeoutError') {
    return new GateError('upstream_timeout', "Daytona's preview proxy did not answer in time.");
  }
  return new GateError('upstream_unavailable', "Daytona's preview proxy could not be reached.");
}
