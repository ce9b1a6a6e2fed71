/**
 * The launch page's reading of an app's framing rules (sw/page/frame-policy.ts): an answer that
 * forbids the host page to frame it is `frame_refused`; one that allows it is not.
 */
import { describe, expect, it } from 'vitest';
import { framingRefused } from '../../sw/page/frame-policy.js';

const HOST = 'http://127.0.0.1:8788';
const h = (init: Record<string, string>) => new Headers(init);

describe('an app that forbids framing by the host page is refused', () => {
  it("frame-ancestors 'self' (JupyterLab), 'none', another origin; X-Frame-Options DENY / SAMEORIGIN", () => {
    expect(framingRefused(h({ 'content-security-policy': "frame-ancestors 'self'" }), HOST)).toBe(true);
    expect(framingRefused(h({ 'content-security-policy': "default-src 'self'; frame-ancestors 'none'" }), HOST)).toBe(true);
    expect(framingRefused(h({ 'content-security-policy': 'frame-ancestors https://other.example' }), HOST)).toBe(true);
    expect(framingRefused(h({ 'content-security-policy': 'frame-ancestors http://127.0.0.1' }), HOST)).toBe(true); // default port only
    // Two policies: each must allow it.
    expect(framingRefused(h({ 'content-security-policy': "frame-ancestors *, frame-ancestors 'self'" }), HOST)).toBe(true);
    expect(framingRefused(h({ 'x-frame-options': 'DENY' }), HOST)).toBe(true);
    expect(framingRefused(h({ 'x-frame-options': 'sameorigin' }), HOST)).toBe(true);
  });

  it('positive controls: no rule, frame-ancestors naming the host (origin, wildcard port, scheme, *), CSP without frame-ancestors', () => {
    expect(framingRefused(h({}), HOST)).toBe(false);
    expect(framingRefused(h({ 'content-security-policy': "default-src 'self'" }), HOST)).toBe(false);
    expect(framingRefused(h({ 'content-security-policy': `frame-ancestors 'self' ${HOST}` }), HOST)).toBe(false);
    expect(framingRefused(h({ 'content-security-policy': 'frame-ancestors http://127.0.0.1:*' }), HOST)).toBe(false);
    expect(framingRefused(h({ 'content-security-policy': 'frame-ancestors http:' }), HOST)).toBe(false);
    expect(framingRefused(h({ 'content-security-policy': 'frame-ancestors *' }), HOST)).toBe(false);
    expect(framingRefused(h({ 'content-security-policy': 'frame-ancestors https://*.example.com' }), 'https://ide.example.com')).toBe(false);
    // frame-ancestors wins over X-Frame-Options, as in browsers.
    expect(framingRefused(h({ 'content-security-policy': `frame-ancestors ${HOST}`, 'x-frame-options': 'DENY' }), HOST)).toBe(false);
  });
});
