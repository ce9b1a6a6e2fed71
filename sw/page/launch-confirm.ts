/**
 * The launch page's side of the login-CSRF defence (broker/core/limits/launch-binding.ts): what
 * the page can prove about where it runs, and the one-click confirmation shown in a tab the
 * gateway cannot tie to the app that made the link.
 */

/** Sent with the code: framed or not, the parent's origin where the browser tells it, the referrer. */
export function launchContext(): { framed: boolean; ancestorOrigins?: string[]; referrer: string } {
  const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  return {
    framed: window.parent !== window,
    ...(ancestors ? { ancestorOrigins: Array.from(ancestors) } : {}),
    referrer: document.referrer,
  };
}

/** Shows the gateway's sentence (who, which sandbox) and resolves when the person clicks Continue. */
export function askToContinue(message: string): Promise<void> {
  const main = document.getElementById('preview-gate') ?? document.body;
  main.replaceChildren();
  document.title = 'Open this preview?';
  const h1 = document.createElement('h1');
  h1.textContent = 'Open this preview?';
  const p = document.createElement('p');
  p.textContent = message;
  const go = document.createElement('button');
  go.type = 'button';
  go.id = 'pg-continue';
  go.textContent = 'Continue';
  main.append(h1, p, go);
  document.body.dataset.gateCode = 'confirmation_required';
  return new Promise((resolve) => go.addEventListener('click', () => resolve(), { once: true }));
}
