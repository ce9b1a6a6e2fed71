/**
 * Renders a failure into the page (the launch page, or wires the buttons of a server-rendered
 * error page): what happened, and the way out that fits where the page is (inside a host
 * app's frame, or a tab of its own).
 */
import { failureText } from './failures.js';
import { postToParent, type PageErrorCode } from './messages.js';

const framed = (): boolean => window.parent !== window;

function button(label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

/** The buttons for a failure's way out. */
export function actionButtons(action: 'relaunch' | 'reload' | 'new-tab'): HTMLElement[] {
  const reload = button('Reload', () => location.reload());
  if (action === 'reload') return [reload];
  if (framed()) {
    const relaunch = button(action === 'new-tab' ? 'Open in a new tab' : 'Get a new link', () =>
      postToParent({ type: 'relaunch', target: action === 'new-tab' ? 'tab' : 'frame' }),
    );
    return [relaunch];
  }
  // A tab of its own: the launch code is spent; only the app that made the link can make another.
  const back = button('Back to the app', () => history.back());
  return history.length > 1 ? [back] : [];
}

/** storage_refused in a tab of its own: not "embedded" (e.g. WebKitGTK over plain http, where it drops Secure cookies). */
const TOP_LEVEL_STORAGE_REFUSED = {
  title: 'Your browser refused what this preview needs',
  detail:
    "The browser accepted neither the preview's cookie nor its Service Worker on this page (some browsers drop secure cookies on plain http, or block site data). Open the preview over https, or allow site data for it, then open it again from the app.",
  action: 'reload' as const,
};

export function showFailure(code: PageErrorCode, message: string): void {
  const text = code === 'storage_refused' && !framed() ? TOP_LEVEL_STORAGE_REFUSED : failureText(code, message);
  const main = document.getElementById('preview-gate') ?? document.getElementById('pg-launch') ?? document.body;
  main.replaceChildren();
  main.setAttribute('role', 'alert');
  document.body.dataset.gateCode = code;
  document.title = text.title;
  const h1 = document.createElement('h1');
  h1.textContent = text.title;
  const detail = document.createElement('p');
  detail.textContent = text.detail;
  const actions = document.createElement('div');
  actions.className = 'actions';
  actions.append(...actionButtons(text.action));
  const codeLine = document.createElement('p');
  codeLine.className = 'code';
  codeLine.textContent = `Error code: ${code}`;
  main.append(h1, detail, actions, codeLine);
}
