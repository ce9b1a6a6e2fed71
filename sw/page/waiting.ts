/**
 * The waiting page (`app_not_listening`: Daytona's bare 502, nothing listens on the port yet;
 * `sandbox_starting`: the gateway is starting the sandbox): checks the same address again with
 * backoff, and as soon as the answer is anything but "still waiting" reloads, so the page turns
 * into the app with no action from the person. Bounded: after `MAX_WAIT_MS` it stops checking
 * and says so; Reload is still there. The bound holds across reloads: a bare 502 also means "the
 * app dropped this request", so an app that answers the check but fails the page itself would
 * bring the waiting page back at once; the wait's start and its number of checks are kept in
 * sessionStorage per address (`resumeWait`), so such a loop backs off and ends too.
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

/** Where a wait stands: when it began and how many checks it made. */
export interface WaitProgress {
  started: number;
  attempt: number;
}

const STORAGE_KEY = '__gate_waiting';

/** The wait for `url` already under way in this tab (the page came back after a reload), or a new one. */
export function resumeWait(url: string, now: number, storage: Pick<Storage, 'getItem'> | null): WaitProgress {
  try {
    const saved = JSON.parse(storage?.getItem(STORAGE_KEY) ?? 'null') as { url?: unknown; started?: unknown; attempt?: unknown } | null;
    if (saved && saved.url === url && typeof saved.started === 'number' && typeof saved.attempt === 'number') {
      // A wait that ended (or began) long ago is over: the person came back later.
      if (saved.started <= now && now - saved.started < MAX_WAIT_MS + 60_000) return { started: saved.started, attempt: saved.attempt };
    }
  } catch {
    /* unreadable: a new wait */
  }
  return { started: now, attempt: 0 };
}

export function saveWait(url: string, progress: WaitProgress, storage: Pick<Storage, 'setItem'> | null): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify({ url, ...progress }));
  } catch {
    /* storage refused: the bound holds per page load only */
  }
}

export interface WaitOptions {
  url: string;
  /** A wait already under way (resumeWait); default: a new one. */
  from?: WaitProgress;
  /** Called before each check with the wait's progress (to keep it across a reload). */
  onAttempt?(progress: WaitProgress): void;
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
  const started = o.from?.started ?? now();
  for (let attempt = o.from?.attempt ?? 0; ; attempt++) {
    const delay = delayBefore(attempt);
    if (now() + delay - started > MAX_WAIT_MS) {
      o.onProgress(null);
      return false;
    }
    o.onProgress(Math.ceil(delay / 1000));
    await sleep(delay);
    o.onAttempt?.({ started, attempt: attempt + 1 });
    if ((await probe(o.url, o.fetchImpl)) === 'changed') {
      o.onReady();
      return true;
    }
  }
}
