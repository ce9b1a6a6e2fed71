/**
 * Renders a failure into the page (the launch page, or wires the buttons of a server-rendered
 * error page): one sentence of what happened, one of what to do, and ways out that always work
 * where the page is:
 *  - inside the host app's frame: the embed mints a new link (`relaunch`, in the frame or a new
 *    tab) when the failure calls for one, and Reload;
 *  - in a tab of its own: Back to the app (GATE_APP_URL from the page's `data-app-url`, else
 *    history when there is some) and Reload.
 */
import { failureText, MALFORMED_CODE, portOfHost, type FailureText } from './failures.js';
import { postToParent, type PageErrorCode } from './messages.js';

const framed = (): boolean => window.parent !== window;

function button(label: string, onClick: () => void, primary = false): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (primary) b.className = 'primary';
  b.addEventListener('click', onClick);
  return b;
}

function link(label: string, href: string, primary = false): HTMLAnchorElement {
  const a = document.createElement('a');
  a.className = primary ? 'button primary' : 'button';
  a.href = href;
  a.textContent = label;
  return a;
}

/** The host app's URL the operator configured (GATE_APP_URL), if it is an http(s) URL. */
function appUrl(): string | null {
  const raw = document.body?.dataset.appUrl;
  if (!raw) return null;
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/**
 * "Back to the app": the configured app URL (GATE_APP_URL) when there is one (it always leads
 * somewhere: history may hold only a blank page or another site), else history when this tab
 * has some, else nothing (Reload stays).
 */
function backToApp(primary: boolean): HTMLElement | null {
  const url = appUrl();
  if (url) return link('Back to the app', url, primary);
  return history.length > 1 ? button('Back to the app', () => history.back(), primary) : null;
}

/** The buttons for a failure's way out; Reload is always among them. */
export function actionButtons(action: 'relaunch' | 'reload' | 'new-tab'): HTMLElement[] {
  const reloadFirst = action === 'reload';
  const reload = button('Reload', () => location.reload(), reloadFirst);
  if (framed()) {
    if (action === 'reload') return [reload];
    const relaunch = button(
      action === 'new-tab' ? 'Open in a new tab' : 'Get a new link',
      () => postToParent({ type: 'relaunch', target: action === 'new-tab' ? 'tab' : 'frame' }),
      true,
    );
    return [relaunch, reload];
  }
  const back = backToApp(!reloadFirst);
  return reloadFirst ? [reload, ...(back ? [back] : [])] : [...(back ? [back] : []), reload];
}

/** The brand header the page was rendered with, kept when the view is replaced. */
function brandOf(main: HTMLElement): Element | null {
  return main.querySelector('.brand') ?? document.querySelector('.brand');
}

export function renderFailure(code: PageErrorCode, text: FailureText): void {
  const main = document.getElementById('preview-gate') ?? document.getElementById('pg-launch') ?? document.body;
  const brand = brandOf(main);
  main.replaceChildren();
  main.setAttribute('role', 'alert');
  document.body.dataset.gateCode = code;
  document.title = text.title;
  const h1 = document.createElement('h1');
  h1.textContent = text.title;
  const detail = document.createElement('p');
  detail.className = 'detail';
  detail.textContent = text.detail;
  const actions = document.createElement('div');
  actions.className = 'actions';
  actions.append(...actionButtons(text.action));
  const codeLine = document.createElement('p');
  codeLine.className = 'code';
  codeLine.textContent = `Error code: ${code}`;
  main.append(...(brand ? [brand] : []), h1, detail, actions, codeLine);
}

export function showFailure(code: PageErrorCode, message: string): void {
  renderFailure(code, failureText(code, message, { framed: framed(), port: portOfHost(location.hostname) }));
}

/** A launch code that is not the shape of one: "not valid", never "expired". */
export function showMalformedCode(): void {
  renderFailure('invalid_code', MALFORMED_CODE);
}
