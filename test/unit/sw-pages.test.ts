import { describe, expect, it } from 'vitest';
import { renderErrorPage } from '../../sw/page/error-page.js';
import { renderLaunchPage } from '../../sw/page/launch-page.js';
import { failureText, MALFORMED_CODE } from '../../sw/page/failures.js';
import { safePath } from '../../sw/page/safe-path.js';

describe('launch page', () => {
  it('loads /__gate/bootstrap.js and carries the CSP nonce on script and style', () => {
    const html = renderLaunchPage({ nonce: 'n0nce' });
    expect(html).toContain('<script src="/__gate/bootstrap.js" defer nonce="n0nce">');
    expect(html).toContain('<style nonce="n0nce">');
    expect(html).toContain('<meta name="referrer" content="no-referrer">');
    expect(renderLaunchPage()).not.toContain('nonce=');
  });

  it('names an inline icon, so a browser asks the gateway for no /favicon.ico before the code is exchanged (a 401 per launch)', () => {
    expect(renderLaunchPage()).toContain('<link rel="icon" href="data:,">');
    expect(renderErrorPage({ code: 'token_expired', message: 'x' })).toContain('<link rel="icon" href="data:,">');
  });

  it('escapes the nonce', () => {
    expect(renderLaunchPage({ nonce: '"><script>' })).not.toContain('"><script>');
  });
});

describe('error page', () => {
  it('says what happened, offers a way out, and names the code for the worker and the embed', () => {
    const html = renderErrorPage({ code: 'session_revoked', message: 'Revoked by its owner.' });
    expect(html).toContain('data-gate-code="session_revoked"');
    expect(html).toContain('Access to this preview was ended');
    expect(html).toContain('/__gate/bootstrap.js');
    expect(html).toContain('Reload');
  });

  it('says each thing once: one sentence of what happened, one of what to do; the message is not repeated on the page', () => {
    const html = renderErrorPage({
      code: 'missing_credential',
      message: 'This preview is private: no access token, cookie or share link came with the request.',
    });
    const visible = html.replace(/<head>[\s\S]*<\/head>/, '').replace(/<[^>]+>/g, ' ');
    expect(visible).toContain('This preview is private.');
    expect(visible).not.toContain('no access token, cookie or share link');
    expect(html).toContain('data-gate-message="This preview is private: no access token');
  });

  it('a way out that works without history: Reload always, Back to the app when GATE_APP_URL is set', () => {
    const without = renderErrorPage({ code: 'session_revoked', message: 'x' });
    expect(without).toContain('data-action="reload"');
    expect(without).not.toContain('data-action="back"');
    const withApp = renderErrorPage({ code: 'session_revoked', message: 'x', brand: { appUrl: 'https://ide.example.com/projects' } });
    expect(withApp).toContain('<a class="button" href="https://ide.example.com/projects" data-action="back">Back to the app</a>');
    expect(withApp).toContain('data-app-url="https://ide.example.com/projects"');
  });

  it("the operator's product name and logo are on top (escaped); the default name is Preview", () => {
    const html = renderErrorPage({ code: 'forbidden', message: 'x', brand: { productName: 'Acme <IDE>', logoUrl: 'https://cdn.example.com/logo.svg' } });
    expect(html).toContain('<span class="product">Acme &#60;IDE&#62;</span>');
    expect(html).toContain('<img class="logo" src="https://cdn.example.com/logo.svg"');
    expect(renderErrorPage({ code: 'forbidden', message: 'x' })).toContain('<span class="product">Preview</span>');
  });

  it('app_not_listening and sandbox_starting are waiting pages: the port named, a status role, a no-script refresh', () => {
    const html = renderErrorPage({ code: 'app_not_listening', message: 'x', port: 5173 });
    expect(html).toContain('data-gate-page="waiting"');
    expect(html).toContain('<h1>Waiting for the app on port 5173.</h1>');
    expect(html).toContain('role="status"');
    expect(html).toContain('<noscript><meta http-equiv="refresh" content="5"></noscript>');
    expect(renderErrorPage({ code: 'sandbox_starting', message: 'x' })).toContain('data-gate-page="waiting"');
    // Positive control: a failure is not a waiting page and does not refresh itself.
    const failure = renderErrorPage({ code: 'sandbox_stopped', message: 'x' });
    expect(failure).toContain('data-gate-page="error"');
    expect(failure).not.toContain('http-equiv="refresh"');
  });

  it('the mis-worded cases say what happened: expired share link, top-level storage_refused, a garbage launch code', () => {
    expect(failureText('share_expired').title).toBe('This share link has expired.');
    expect(failureText('storage_refused', '', { framed: false }).title).not.toMatch(/embedded|inside the app/i);
    expect(failureText('storage_refused', '', { framed: true }).title).toMatch(/inside the app/);
    expect(MALFORMED_CODE.title).toBe('This preview link is not valid.');
    expect(MALFORMED_CODE.title).not.toMatch(/expired/);
  });

  it('escapes the message (no markup injection through an error)', () => {
    const html = renderErrorPage({ code: 'internal', message: '<img src=x onerror=alert(1)>' });
    expect(html).not.toContain('<img src=x');
  });
});

describe('launch path: an open redirect cannot be built from the fragment', () => {
  const origin = 'http://3000-a.preview.localhost:8787';
  it.each([
    ['/app?x=1#h', '/app?x=1#h'],
    ['/', '/'],
    [null, '/'],
    ['https://evil.example/', '/'],
    ['//evil.example/', '/'],
    ['/\\evil.example', '/'],
    ['javascript:alert(1)', '/'],
    ['/__gate/launch', '/'],
    ['/a/../__gate/refresh', '/'],
  ])('%s → %s', (input, expected) => {
    expect(safePath(input, origin)).toBe(expected);
  });
});
