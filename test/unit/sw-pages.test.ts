import { describe, expect, it } from 'vitest';
import { renderErrorPage } from '../../sw/page/error-page.js';
import { renderLaunchPage } from '../../sw/page/launch-page.js';
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
