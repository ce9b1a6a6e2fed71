/**
 * Upstream side of preview-gate: an authenticated request for sandbox S port P → Daytona's
 * preview proxy → back, streaming both ways.
 *
 * Flow of `forward(request, target, principal)`:
 *   1. auto-start.ts      a start under way answers 503 `sandbox_starting` at once
 *   2. retry.ts           small bodies are kept for one repeat; large ones stream
 *   3. link-cache.ts      Daytona's signed preview URL for the port (port-scoped, 15 min, renewed
 *                         after 10): cached, single-flight, stale-on-error
 *   4. forward.ts         upstream request: no token header (the credential is the signed host),
 *                         skip-warning, disable-CORS, skip-last-activity per `activityUpdates`,
 *                         X-Forwarded-*, no hop-by-hop (hop-by-hop.ts), redirect: manual
 *   5. daytona-answers.ts Daytona's own answers told apart from the app's: a 307 to its identity
 *                         provider or production's 401 (link expired/revoked → refresh, repeat
 *                         once), stopped/paused/archived, gone (confirmed with the API)
 *   6. sanitize-response.ts no Daytona token or cookie reaches the browser; `Location` on
 *                         Daytona's host rewritten to the gateway's preview origin
 *
 * @example
 * const upstream = createUpstream({
 *   daytona: createDaytonaPort({ apiUrl, apiKey }),   // broker/node/daytona-sdk.ts
 *   fetch: createNodeFetch(),                          // broker/node/fetch-upstream.ts
 *   previewOrigin: (t) => `http://${t.port}-${t.sandboxId}.preview.localhost:8787`,
 *   autoStart: true,
 * });
 * const response = await upstream.forward(request, { sandboxId, port: 3000 }, principal);
 */
export { createUpstream, DEFAULT_SIGNED_URL_SECONDS, type GateUpstream, type UpstreamDeps } from './create-upstream.js';
export { createLinkCache, LINK_CACHE_METRIC, type LinkCache, type LinkCacheOptions } from './link-cache.js';
export { HOP_BY_HOP_HEADERS, connectionTokens, isHopByHop, stripHopByHop } from './hop-by-hop.js';
export { DISABLE_CORS_HEADER, SKIP_ACTIVITY_HEADER, daytonaHeaders, upstreamHeaders, type ActivityUpdates } from './forward.js';
export { isDaytonaCookie, rewriteDaytonaUrl, sanitizeResponseHeaders, type HygieneContext } from './sanitize-response.js';
export { classifyDaytonaError, isIdentityProviderRedirect, type DaytonaVerdict } from './daytona-answers.js';
export { DEFAULT_REPLAY_LIMIT } from './retry.js';
