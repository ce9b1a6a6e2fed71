/**
 * What the embed shows in place of the app once the preview session is over and no new one
 * starts by itself (`handle.revoke()`, or the host app cancelled `expired`): a clear "ended"
 * state with a way to start again, so a frame never keeps showing an app it no longer has
 * access to. Plain DOM, inline styles (the host page's stylesheet may be anything).
 */
import type { ErrorCode } from '../../protocol/index.js';

export interface EndedPanel {
  show(code: ErrorCode): void;
  hide(): void;
  remove(): void;
}

const TEXT: Partial<Record<ErrorCode, string>> = {
  session_revoked: 'This preview session was ended.',
  invalid_session: 'This preview session reached its end.',
};

export function createEndedPanel(root: Node & ParentNode, startAgain: () => void): EndedPanel {
  const panel = document.createElement('div');
  panel.setAttribute('part', 'ended');
  panel.setAttribute('role', 'status');
  panel.dataset.previewGate = 'ended';
  panel.style.cssText =
    'position:absolute;inset:0;display:none;flex-direction:column;align-items:center;justify-content:center;gap:.75rem;' +
    'padding:1.5rem;text-align:center;font:15px/1.5 system-ui,sans-serif;background:Canvas;color:CanvasText;';
  const title = document.createElement('p');
  title.style.cssText = 'margin:0;font-weight:600;font-size:1.05rem;';
  const hint = document.createElement('p');
  hint.style.cssText = 'margin:0;opacity:.8;';
  hint.textContent = 'The app is no longer shown here. Start a new session to see it again.';
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Start again';
  button.style.cssText = 'font:inherit;padding:.45rem 1rem;border-radius:.4rem;border:1px solid #2563eb;background:#2563eb;color:#fff;cursor:pointer;';
  button.addEventListener('click', () => startAgain());
  panel.append(title, hint, button);
  root.append(panel);
  return {
    show(code) {
      title.textContent = TEXT[code] ?? 'This preview session is over.';
      panel.style.display = 'flex';
    },
    hide() {
      panel.style.display = 'none';
    },
    remove() {
      panel.remove();
    },
  };
}
