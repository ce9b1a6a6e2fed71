/** GATE_APP_URL, GATE_PRODUCT_NAME, GATE_PRODUCT_LOGO_URL: validated once, with a message naming the variable. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../broker/core/config.js';
import { configFromEnv } from '../../broker/node/config-env.js';
import { pageHeaders } from '../../broker/core/http/pages.js';

const base = { userJwtSecret: 'x'.repeat(32) };

describe('page options', () => {
  it('defaults: product name Preview, no logo, no app URL', () => {
    expect(resolveConfig(base).pages).toEqual({ appUrl: null, productName: 'Preview', logoUrl: null, logoOrigin: null });
  });
  it('read from the environment', () => {
    const { config } = configFromEnv({
      GATE_USER_JWT_SECRET: 'x'.repeat(32),
      GATE_APP_URL: 'https://ide.example.com/',
      GATE_PRODUCT_NAME: 'Acme IDE',
      GATE_PRODUCT_LOGO_URL: 'https://cdn.example.com/acme.svg',
    });
    expect(resolveConfig(config).pages).toEqual({
      appUrl: 'https://ide.example.com/',
      productName: 'Acme IDE',
      logoUrl: 'https://cdn.example.com/acme.svg',
      logoOrigin: 'https://cdn.example.com',
    });
  });
  it("a logo from another origin is allowed by the pages' CSP img-src, and only that origin", () => {
    const pages = resolveConfig({ ...base, productLogoUrl: 'https://cdn.example.com/acme.svg' }).pages;
    expect(pageHeaders('n', [], pages)['content-security-policy']).toContain("img-src 'self' data: https://cdn.example.com;");
    expect(pageHeaders('n', [])['content-security-policy']).toContain("img-src 'self' data:;");
  });
  it('a data: logo is accepted; script URLs, non-image data and bad app URLs are refused naming the variable', () => {
    expect(resolveConfig({ ...base, productLogoUrl: 'data:image/png;base64,iVBORw0KGgo=' }).pages.logoOrigin).toBeNull();
    expect(() => resolveConfig({ ...base, productLogoUrl: 'javascript:alert(1)' })).toThrow(/GATE_PRODUCT_LOGO_URL/);
    expect(() => resolveConfig({ ...base, productLogoUrl: 'data:text/html;base64,PHNjcmlwdD4=' })).toThrow(/GATE_PRODUCT_LOGO_URL/);
    expect(() => resolveConfig({ ...base, appUrl: 'javascript:history.back()' })).toThrow(/GATE_APP_URL/);
    expect(() => resolveConfig({ ...base, appUrl: 'ide.example.com' })).toThrow(/GATE_APP_URL/);
    expect(() => resolveConfig({ ...base, productName: 'x'.repeat(61) })).toThrow(/GATE_PRODUCT_NAME/);
  });
});
