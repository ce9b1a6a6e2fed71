/**
 * Threat: the sandbox app runs on the preview origin inside the embed's iframe, so it can post
 * the embed protocol's messages itself. A flood of `relaunch` requests must not make the host
 * page mint preview sessions without limit, and app-controlled `code`/`message` must not pass
 * into the host's events unchecked. `mount` runs here against small fakes of the DOM it uses
 * (window, an iframe, the element, fetch), no browser.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  endedCode,
  MAX_AUTO_RELAUNCH_PER_MINUTE,
  MAX_MESSAGE_LENGTH,
  mount,
  READY_SETTLE_MS,
  statusInterval,
  type PreviewEventDetail,
} from '../../sw/embed/embed-mount.js';
import { parsePorts } from '../../sw/embed/preview-frame.js';

const GATEWAY = 'http://localhost:8787';
const PREVIEW = 'http://3000-sbx.preview.localhost:8787';

interface Fake {
  mints: number;
  /** The JSON bodies of POST /api/previews. */
  mintBodies: Record<string, unknown>[];
  opened: string[];
  events: { type: string; detail: PreviewEventDetail }[];
  /** Posts a message "from the frame" (the app's scripts can do exactly this). */
  fromFrame(data: unknown, o?: { origin?: string; source?: unknown }): void;
  element: EventTarget;
  frameWindow: object;
  /** GET /api/previews/{id} calls, by session id. */
  checks: string[];
  /** What GET /api/previews/{id} answers: a state, an HTTP status, or 'network' (fetch throws). */
  status: Record<string, string | number>;
  deletes: string[];
  document: EventTarget & { visibilityState: string };
  iframe: { src: string; load(): void };
  /** The ended panel the embed puts over the frame (display, its button). */
  panel(): { shown: boolean; click(): void } | null;
}

let fake: Fake;
let now = Date.UTC(2026, 0, 1);

beforeEach(() => {
  const win = new EventTarget() as EventTarget & { open(url: string): object | null };
  const frameWindow = {};
  const iframe = {
    src: '',
    title: '',
    style: { cssText: '' },
    contentWindow: frameWindow,
    loads: [] as (() => void)[],
    setAttribute() {},
    addEventListener(type: string, fn: () => void) {
      if (type === 'load') this.loads.push(fn);
    },
    removeEventListener() {},
    remove() {},
    load() {
      for (const fn of this.loads) fn();
    },
  };
  /** Any other element the embed makes (the ended panel and its parts). */
  const nodes: { dataset: Record<string, string>; style: { cssText: string; display?: string }; clicks: (() => void)[] }[] = [];
  const node = () => {
    const n = {
      dataset: {} as Record<string, string>,
      style: { cssText: '' } as { cssText: string; display?: string },
      textContent: '',
      type: '',
      clicks: [] as (() => void)[],
      setAttribute() {},
      append() {},
      remove() {},
      addEventListener(type: string, fn: () => void) {
        if (type === 'click') n.clicks.push(fn);
      },
    };
    nodes.push(n);
    return n;
  };
  const element = Object.assign(new EventTarget(), { shadowRoot: null, append() {} });
  const f: Fake = {
    mints: 0,
    mintBodies: [],
    opened: [],
    events: [],
    element,
    frameWindow,
    checks: [],
    status: {},
    deletes: [],
    document: Object.assign(new EventTarget(), { visibilityState: 'visible', createElement: (tag: string) => (tag === 'iframe' ? iframe : node()) }),
    iframe,
    panel() {
      const p = nodes.find((n) => n.dataset.previewGate === 'ended');
      if (!p) return null;
      const button = nodes[nodes.indexOf(p) + 3];
      return { shown: p.style.display === 'flex', click: () => button?.clicks.forEach((fn) => fn()) };
    },
    fromFrame(data, o = {}) {
      const ev = Object.assign(new Event('message'), { data, origin: o.origin ?? PREVIEW, source: 'source' in o ? o.source : frameWindow });
      win.dispatchEvent(ev);
    },
  };
  win.open = (url: string) => {
    f.opened.push(url);
    return {};
  };
  for (const type of ['ready', 'waiting', 'expired', 'error']) {
    element.addEventListener(type, (e) => f.events.push({ type, detail: (e as CustomEvent<PreviewEventDetail>).detail }));
  }
  vi.stubGlobal('window', win);
  vi.stubGlobal('document', f.document);
  vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
    const one = /\/api\/previews\/([^/]+)$/.exec(String(url));
    if (one && init?.method === 'DELETE') {
      f.deletes.push(one[1]!);
      f.status[one[1]!] = 'revoked';
      return new Response(null, { status: 204 });
    }
    if (one && init?.method === 'GET') {
      const sid = one[1]!;
      f.checks.push(sid);
      const st = f.status[sid] ?? 'active';
      if (st === 'network') throw new TypeError('Failed to fetch');
      if (typeof st === 'number') return Response.json({ error: { code: st === 404 ? 'not_found' : 'internal', message: 'x' } }, { status: st });
      return Response.json({ sessionId: sid, sandboxId: 'sbx', port: 3000, origin: PREVIEW, state: st, expiresAt: now + 3_600_000 });
    }
    if (!String(url).endsWith('/api/previews')) return new Response(null, { status: 204 });
    f.mints++;
    f.mintBodies.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
    return Response.json({ url: `${PREVIEW}/__gate/launch#code=c${f.mints}&path=%2F`, sessionId: `s${f.mints}`, expiresAt: now + 60_000 }, { status: 201 });
  });
  vi.spyOn(Date, 'now').mockImplementation(() => now);
  fake = f;
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
};
const msg = (m: Record<string, unknown>) => ({ source: 'preview-gate', version: 1, ...m });

async function mounted() {
  const handle = mount(fake.element as HTMLElement, { sandboxId: 'sbx', port: 3000, getSession: async () => 'user-jwt' }, GATEWAY);
  await settle();
  expect(fake.mints).toBe(1);
  return handle;
}

describe('the embed rations what the frame (the app) can ask for', () => {
  it('a flood of `relaunch` messages with no error before them mints nothing', async () => {
    await mounted();
    for (let i = 0; i < 200; i++) fake.fromFrame(msg({ type: 'relaunch', target: i % 2 ? 'frame' : 'tab' }));
    await settle();
    expect(fake.mints).toBe(1);
    expect(fake.opened).toEqual([]);
  });

  it('a flood of error + relaunch pairs (any code, frame or tab) mints at most the per-minute cap', async () => {
    await mounted();
    const codes = ['forbidden', 'session_revoked', 'invalid_code', 'sandbox_stopped', 'made_up'];
    for (let i = 0; i < 200; i++) {
      fake.fromFrame(msg({ type: 'error', code: codes[i % codes.length], message: 'x' }));
      fake.fromFrame(msg({ type: 'relaunch', target: i % 3 ? 'frame' : 'tab' }));
    }
    await settle();
    expect(fake.mints - 1).toBeLessThanOrEqual(MAX_AUTO_RELAUNCH_PER_MINUTE);
    // Still capped a moment later; the allowance comes back after a minute.
    for (let i = 0; i < 50; i++) {
      fake.fromFrame(msg({ type: 'error', code: 'wrong_scope', message: 'x' }));
      fake.fromFrame(msg({ type: 'relaunch', target: 'frame' }));
    }
    await settle();
    expect(fake.mints - 1).toBeLessThanOrEqual(MAX_AUTO_RELAUNCH_PER_MINUTE);
    now += 61_000;
    const before = fake.mints;
    fake.fromFrame(msg({ type: 'error', code: 'wrong_scope', message: 'x' }));
    fake.fromFrame(msg({ type: 'relaunch', target: 'frame' }));
    await settle();
    expect(fake.mints).toBe(before + 1);
  });

  it("the failure page's button still works: one error, then one relaunch, mints one session", async () => {
    await mounted();
    fake.fromFrame(msg({ type: 'error', code: 'wrong_scope', message: 'This credential is for another preview' }));
    fake.fromFrame(msg({ type: 'relaunch', target: 'frame' }));
    fake.fromFrame(msg({ type: 'relaunch', target: 'frame' })); // a double click: once per error
    await settle();
    expect(fake.mints).toBe(2);
    // The host cancelled the automatic relaunch of an ended session: the button may ask once.
    fake.element.addEventListener('expired', (e) => e.preventDefault(), { once: true });
    fake.fromFrame(msg({ type: 'error', code: 'session_revoked', message: 'ended' }));
    await settle();
    expect(fake.mints).toBe(2);
    fake.fromFrame(msg({ type: 'relaunch', target: 'tab' }));
    await settle();
    expect(fake.mints).toBe(3);
    expect(fake.opened).toHaveLength(1);
  });

  it('an uncancelled expiry relaunches by itself, and a button press after it adds nothing', async () => {
    await mounted();
    fake.fromFrame(msg({ type: 'error', code: 'invalid_code', message: 'spent' }));
    fake.fromFrame(msg({ type: 'relaunch', target: 'frame' }));
    await settle();
    expect(fake.mints).toBe(2);
  });

  it('codes are checked against the known ones and messages are capped text', async () => {
    await mounted();
    fake.fromFrame(msg({ type: 'error', code: '<img src=x onerror=alert(1)>', message: 'y'.repeat(10_000) }));
    fake.fromFrame(msg({ type: 'error', code: 'storage_refused', message: { toString: () => 'object' } }));
    fake.fromFrame(msg({ type: 'error', code: 'sandbox_stopped', message: 'stopped' }));
    const errors = fake.events.filter((e) => e.type === 'error').map((e) => [e.detail.code, e.detail.message.length]);
    expect(errors).toEqual([
      ['internal', MAX_MESSAGE_LENGTH],
      ['storage_refused', 0],
      ['sandbox_stopped', 'stopped'.length],
    ]);
  });

  it('a blocked popup (the failure page asked for a new tab) is reported as popup_blocked with the link', async () => {
    await mounted();
    (globalThis.window as unknown as { open(url: string): object | null }).open = () => null;
    fake.fromFrame(msg({ type: 'error', code: 'wrong_scope', message: 'x' }));
    fake.fromFrame(msg({ type: 'relaunch', target: 'tab' }));
    await settle();
    const errors = fake.events.filter((e) => e.type === 'error').map((e) => e.detail);
    expect(errors.at(-1)?.code).toBe('popup_blocked');
    expect(errors.at(-1)?.message).toContain('/__gate/launch#code=c2');
  });

  it('messages from another window or origin are ignored', async () => {
    await mounted();
    fake.fromFrame(msg({ type: 'error', code: 'forbidden', message: 'x' }), { origin: 'http://evil.example' });
    fake.fromFrame(msg({ type: 'error', code: 'forbidden', message: 'x' }), { source: {} });
    fake.fromFrame(msg({ type: 'relaunch', target: 'frame' }));
    await settle();
    expect(fake.events).toEqual([]);
    expect(fake.mints).toBe(1);
  });
});

describe('the embed notices a session that ended elsewhere (status check)', () => {
  const INTERVAL = 100;
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  async function launched(o: { statusIntervalMs?: number } = {}) {
    const handle = mount(
      fake.element as HTMLElement,
      { sandboxId: 'sbx', port: 3000, getSession: async () => 'user-jwt', statusIntervalMs: INTERVAL, ...o },
      GATEWAY,
    );
    await settle();
    expect(fake.mints).toBe(1);
    fake.fromFrame(msg({ type: 'launched', credentialPath: 'cookie' }));
    return handle;
  }
  const expired = () => fake.events.filter((e) => e.type === 'expired').map((e) => [e.detail.code, e.detail.sessionId]);

  it('interval option: default 30 s, at least 100 ms, 0 = off; states map to codes', () => {
    expect(statusInterval(undefined)).toBe(30_000);
    expect(statusInterval('5')).toBe(30_000);
    expect(statusInterval(5)).toBe(100);
    expect(statusInterval(300)).toBe(300);
    expect(statusInterval(0)).toBe(0);
    expect([endedCode('active'), endedCode('revoked'), endedCode('expired'), endedCode('x')]).toEqual([null, 'session_revoked', 'invalid_session', null]);
  });

  it('asks nothing before `launched`; after it, a revoked session is reported once and relaunched', async () => {
    mount(fake.element as HTMLElement, { sandboxId: 'sbx', port: 3000, getSession: async () => 'user-jwt', statusIntervalMs: INTERVAL }, GATEWAY);
    await wait(INTERVAL * 3);
    expect(fake.checks).toEqual([]);
    fake.fromFrame(msg({ type: 'launched', credentialPath: 'cookie' }));
    await wait(INTERVAL * 2.5);
    expect(fake.checks.length).toBeGreaterThanOrEqual(1);
    expect(expired()).toEqual([]);
    fake.status.s1 = 'revoked';
    await wait(INTERVAL * 2.5);
    await settle();
    expect(expired()).toEqual([['session_revoked', 's1']]);
    expect(fake.mints).toBe(2); // relaunched; the new session is watched after its own `launched`
    const checksOfS1 = fake.checks.filter((s) => s === 's1').length;
    await wait(INTERVAL * 3);
    expect(fake.checks.filter((s) => s === 's1').length).toBe(checksOfS1);
  });

  it('a cancelled `expired` keeps the frame down: no relaunch, no more checks, no second event from the error page', async () => {
    await launched();
    fake.element.addEventListener('expired', (e) => e.preventDefault());
    fake.status.s1 = 'expired';
    await wait(INTERVAL * 2.5);
    expect(expired()).toEqual([['invalid_session', 's1']]);
    const n = fake.checks.length;
    await wait(INTERVAL * 3);
    expect(fake.checks.length).toBe(n);
    expect(fake.mints).toBe(1);
    // The frame navigates later and gets the gateway's error page: reported already, but its
    // "Get a new link" button may still ask once.
    fake.fromFrame(msg({ type: 'error', code: 'invalid_session', message: 'ended' }));
    await settle();
    expect(expired()).toHaveLength(1);
    fake.fromFrame(msg({ type: 'relaunch', target: 'frame' }));
    fake.fromFrame(msg({ type: 'relaunch', target: 'frame' }));
    await settle();
    expect(fake.mints).toBe(2);
  });

  it('network errors and other failures say nothing; the next tick asks again', async () => {
    await launched();
    fake.status.s1 = 'network';
    await wait(INTERVAL * 3.5);
    fake.status.s1 = 500;
    await wait(INTERVAL * 2.5);
    expect(fake.checks.length).toBeGreaterThanOrEqual(3);
    expect(fake.events.filter((e) => e.type !== 'ready')).toEqual([]);
    fake.status.s1 = 'revoked';
    await wait(INTERVAL * 2.5);
    expect(expired()).toEqual([['session_revoked', 's1']]);
  });

  it('pauses while the page is hidden and asks at once when it is shown again', async () => {
    await launched();
    await wait(INTERVAL * 1.5);
    fake.document.visibilityState = 'hidden';
    fake.document.dispatchEvent(new Event('visibilitychange'));
    await settle(); // a check already under way ends and schedules nothing
    const n = fake.checks.length;
    expect(n).toBeGreaterThanOrEqual(1);
    fake.status.s1 = 'revoked';
    await wait(INTERVAL * 4);
    expect(fake.checks.length).toBe(n);
    expect(expired()).toEqual([]);
    fake.document.visibilityState = 'visible';
    fake.document.dispatchEvent(new Event('visibilitychange'));
    await settle();
    expect(fake.checks.length).toBe(n + 1);
    expect(expired()).toEqual([['session_revoked', 's1']]);
  });

  it('a 404 means gone once the session was seen active; before that, a gateway without the endpoint (stop asking)', async () => {
    await launched();
    await wait(INTERVAL * 1.5);
    fake.status.s1 = 404;
    await wait(INTERVAL * 2.5);
    expect(expired()).toEqual([['invalid_session', 's1']]);
  });

  it('a 404 on the first check stops the checks without an event', async () => {
    fake.status.s1 = 404;
    await launched();
    await wait(INTERVAL * 4);
    expect(fake.checks).toEqual(['s1']);
    expect(expired()).toEqual([]);
  });

  it('revoke() means revoke: even with `expired` not cancelled, no new session starts by itself; the frame shows the ended panel', async () => {
    const handle = await launched({ statusIntervalMs: 60_000 });
    await handle.revoke();
    await settle();
    expect(fake.deletes).toEqual(['s1']);
    expect(expired()).toEqual([['session_revoked', 's1']]);
    expect(fake.mints).toBe(1);
    expect(handle.state).toBe('ended');
    expect(fake.iframe.src).toBe('about:blank');
    expect(fake.panel()?.shown).toBe(true);
    // Positive control: reload() starts a new session.
    await handle.reload();
    expect(fake.mints).toBe(2);
    expect(handle.state).toBe('loading');
  });

  it('revoke() reports at once (no check needed), and destroy() stops the checks', async () => {
    const handle = await launched({ statusIntervalMs: 60_000 });
    fake.element.addEventListener('expired', (e) => e.preventDefault());
    await handle.revoke();
    expect(fake.deletes).toEqual(['s1']);
    expect(expired()).toEqual([['session_revoked', 's1']]);
    expect(fake.checks).toEqual([]);
    await settle();
    expect(fake.mints).toBe(1);

    const other = await (async () => {
      fake.events.length = 0;
      const h = mount(fake.element as HTMLElement, { sandboxId: 'sbx', port: 3000, getSession: async () => 'user-jwt', statusIntervalMs: INTERVAL }, GATEWAY);
      await settle();
      fake.fromFrame(msg({ type: 'launched', credentialPath: 'cookie' }));
      return h;
    })();
    other.destroy();
    fake.status.s2 = 'revoked';
    await wait(INTERVAL * 3);
    expect(fake.checks.filter((s) => s === 's2')).toEqual([]);
    expect(expired()).toEqual([]);
  });
});

describe('the embed tells waiting from ready', () => {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const types = () => fake.events.map((e) => `${e.type}:${e.detail.code}`);
  async function launchedFrame() {
    const handle = mount(fake.element as HTMLElement, { sandboxId: 'sbx', port: 3000, getSession: async () => 'user-jwt', statusIntervalMs: 0 }, GATEWAY);
    await settle();
    fake.fromFrame(msg({ type: 'launched', credentialPath: 'cookie' }));
    return handle;
  }

  it('the waiting page loaded after the launch: `waiting`, never `ready`; when it turns into the app: `ready`', async () => {
    const handle = await launchedFrame();
    // The waiting page's load and its report reach the host in either order.
    fake.iframe.load();
    fake.fromFrame(msg({ type: 'waiting', code: 'app_not_listening', message: 'Nothing is listening on port 3000.' }));
    await wait(READY_SETTLE_MS * 2);
    expect(types()).toEqual(['waiting:app_not_listening']);
    expect(handle.state).toBe('waiting');
    // The page reloads into the app: its load, and no report.
    fake.iframe.load();
    await wait(READY_SETTLE_MS * 2);
    expect(types()).toEqual(['waiting:app_not_listening', 'ready:ok']);
    expect(handle.state).toBe('live');
  });

  it("the report before the waiting page's own load (Firefox's order): that load is not the app's; the next one is", async () => {
    await launchedFrame();
    fake.fromFrame(msg({ type: 'waiting', code: 'app_not_listening', message: '' }));
    fake.iframe.load();
    await wait(READY_SETTLE_MS * 2);
    expect(types()).toEqual(['waiting:app_not_listening']);
    // Reloaded into another waiting page, report first again: still waiting.
    fake.fromFrame(msg({ type: 'waiting', code: 'app_not_listening', message: '' }));
    fake.iframe.load();
    await wait(READY_SETTLE_MS * 2);
    expect(types()).toEqual(['waiting:app_not_listening']);
    // Then the app.
    fake.iframe.load();
    await wait(READY_SETTLE_MS * 2);
    expect(types()).toEqual(['waiting:app_not_listening', 'ready:ok']);
  });

  it('a sandbox that is starting is waiting too; a repeated report makes one event', async () => {
    await launchedFrame();
    fake.fromFrame(msg({ type: 'waiting', code: 'sandbox_starting', message: '' }));
    fake.iframe.load();
    fake.fromFrame(msg({ type: 'waiting', code: 'sandbox_starting', message: '' }));
    await wait(READY_SETTLE_MS * 2);
    expect(types()).toEqual(['waiting:sandbox_starting']);
  });

  it('a `waiting` report with a code that is not a waiting one is ignored (the app can post anything)', async () => {
    await launchedFrame();
    fake.fromFrame(msg({ type: 'waiting', code: 'forbidden', message: '' }));
    fake.iframe.load();
    await wait(READY_SETTLE_MS * 2);
    expect(types()).toEqual(['ready:ok']);
  });

  it('positive control: the app loaded after the launch is `ready` (after the settle window), once', async () => {
    const handle = await launchedFrame();
    fake.iframe.load();
    expect(types()).toEqual([]);
    await wait(READY_SETTLE_MS * 2);
    expect(types()).toEqual(['ready:ok']);
    fake.iframe.load(); // the app navigating inside the frame says nothing new
    await wait(READY_SETTLE_MS * 2);
    expect(types()).toEqual(['ready:ok']);
    expect(handle.state).toBe('live');
  });
});

describe('the embed launches apps on several ports (`ports`)', () => {
  it('mount({ ports }) asks the gateway for every port; without it the launch is one port as before', async () => {
    mount(fake.element as HTMLElement, { sandboxId: 'sbx', port: 3000, ports: [3000, 8000], getSession: async () => 'user-jwt' }, GATEWAY);
    await settle();
    expect(fake.mintBodies).toEqual([{ sandboxId: 'sbx', port: 3000, ports: [3000, 8000] }]);
    // Every later mint (a relaunch) keeps the ports.
    fake.fromFrame(msg({ type: 'error', code: 'session_revoked', message: 'ended' }));
    await settle();
    expect(fake.mintBodies[1]).toEqual({ sandboxId: 'sbx', port: 3000, ports: [3000, 8000] });
    // Positive control: no `ports` (or an empty list) sends no `ports` field at all.
    mount(fake.element as HTMLElement, { sandboxId: 'sbx', port: 3000, ports: [], getSession: async () => 'user-jwt' }, GATEWAY);
    await settle();
    expect(fake.mintBodies.at(-1)).toEqual({ sandboxId: 'sbx', port: 3000 });
  });

  it('the `ports` attribute takes commas and/or spaces; a word that is not a number reaches the gateway as null (its coded 400), never dropped', () => {
    expect(parsePorts('3000 8000')).toEqual([3000, 8000]);
    expect(parsePorts(' 3000,8000 , 8001 ')).toEqual([3000, 8000, 8001]);
    expect(parsePorts(null)).toBeUndefined();
    expect(parsePorts('  ')).toBeUndefined();
    const bad = parsePorts('3000 api');
    expect(bad?.[1]).toBeNaN();
    expect(JSON.parse(JSON.stringify({ ports: bad }))).toEqual({ ports: [3000, null] });
  });
});
