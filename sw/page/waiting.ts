/**
 * The waiting page (`app_not_listening`: Daytona's bare 502, nothing listens on the port yet;
 * `sandbox_starting`: the gateway is starting the sandbox): checks the same address again with
 * backoff, and as soon as the answer is anything but "still waiting" reloads, so the page turns
 * into the app with no action from the person. Bounded: after `MAX_WAIT_MS` it stops checking
 * and says so; Reload is still there.
 *
 * The check is a same-origin GET of the page's own URL asking for JSON: the gateway answers a
 * coded `{"error":{"code"}}` while it waits (broker/core/http/respond.ts), the Service Worker
 * (where one runs) or the cookie carries the credential, and once the app is up the app answers
 * it (one extra GET of the page, which a page's GET must bear anyway).
 */
import { readErrorAnswer } from '../../protocol/index.js';
import { isWaitingCode } from './failures.js';

/** First delay between checks, its growth per check and its ceiling. */
export const FIRST_DELAY_MS = 1_000;
export const BACKOFF = 1.5;
export const MAX_DELAY_MS = 8_000;
/** After this long without the app, the page stops checking (and says so). */
export const MAX_WAIT_MS = 5 * 60_000;

/** The delay before check number `attempt` (0-based). */
export function delayBefore(attempt: number): number {
  return Math.min(MAX_DELAY_MS, Math.round(FIRST_DELAY_MS * BACKOFF ** attempt));
}

export type ProbeResult = 'waiting' | 'changed' | 'unreachable';

/** One check: still one of the waiting answers, something else (reload), or no answer at all (keep waiting). */
export async function probe(url: string, fetchImpl: typeof fetch = fetch): Promise<ProbeResult> {
  let response: Response;
  try {
    response = await fetchImpl(url, { credentials: 'same-origin', cache: 'no-store', redirect: 'manual', headers: { accept: 'application/json' } });
  } catch {
    return 'unreachable';
  }
  if (response.status !== 502 && response.status !== 503) return 'changed';
  const body = await response.text().catch(() => '');
  const parts = { status: response.status, contentType: response.headers.get('content-type'), wwwAuthenticate: null, body };
  const code = readErrorAnswer(parts)?.code;
  if (isWaitingCode(code)) return 'waiting';
  // The gateway briefly unavailable, or Daytona's bare 502 through an older gateway: still waiting.
  if (code === 'daytona_unavailable' || code === 'gateway_starting' || (response.status === 502 && body === '')) return 'waiting';
  return 'changed';
}

export interface WaitOptions {
  url: string;
  /** Tells the person when the next check is (seconds), or that checks stopped (null). */
  onProgress(nextCheckSeconds: number | null): void;
  /** The app answers: show it. */
  onReady(): void;
  fetchImpl?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Checks until the app answers or MAX_WAIT_MS passed. Resolves true when `onReady` was called. */
export async function waitForApp(o: WaitOptions): Promise<boolean> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  for (let attempt = 0; ; attempt++) {
    const delay = delayBefore(attempt);
    if (now() + delay - started > MAX_WAIT_MS) {
      o.onProgress(null);
      return false;
    }
    o.onProgress(Math.ceil(delay / 1000));
    await sleep(delay);
    if ((await probe(o.url, o.fetchImpl)) === 'changed') {
      o.onReady();
      return true;
    }
  }
}
