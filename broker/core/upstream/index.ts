/**
 * Upstream side of preview-gate: an authenticated request for sandbox S port P → Daytona's
 * preview proxy → back, streaming both ways.
 *
 * Flow of `forward(request, target, principal)`:
 *   1. auto-start.ts      a start under way answers 503 `sandbox_starting` at once
 *   2. retry.ts           small bodies are kept for one repeat; large ones stream
 *   3. link-cache.ts      Daytona's `{url, token}` for the port: cached, single-flight, stale-on-error
 *   4. forward.ts         upstream request: token, skip-warning, disable-CORS, X-Forwarded-*,
 *                         no hop-by-hop (hop-by-hop.ts), redirect: manual
 *   5. daytona-answers.ts Daytona's own answers told apart from the app's: a 307 to its identity
 *                         provider (token rotated → refresh link, repeat once), stopped, gone
 *   6. response-hygiene.ts no Daytona token or cookie reaches the browser; `Location` on
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
export { createUpstream, type GateUpstream, type UpstreamDeps } from './create-upstream.js';
export { createLinkCache, LINK_CACHE_METRIC, type LinkCache, type LinkCacheOptions } from './link-cache.js';
export { HOP_BY_HOP_HEADERS, connectionTokens, isHopByHop, stripHopByHop } from './hop-by-hop.js';
export { DISABLE_CORS_HEADER, daytonaHeaders, upstreamHeaders } from './forward.js';
export { isDaytonaCookie, rewriteDaytonaUrl, sanitizeResponseHeaders, type HygieneContext } from './response-hygiene.js';
export { classifyDaytonaError, isIdentityProviderRedirect, type DaytonaVerdict } from './daytona-answers.js';
export { DEFAULT_REPLAY_LIMIT } from './retry.js';
