import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../broker/core/config.js';
import { configFromEnv } from '../../broker/node/config-env.js';
import { createGateway } from '../../broker/core/gateway.js';
import { fakeDaytona, fakeUpstream, SECRET } from './helpers.js';

describe('configuration is validated once, with a message that says what to set', () => {
  it('refuses to start without a way to verify user sessions, naming both variables', () => {
    expect(() => resolveConfig({})).toThrow(/GATE_USER_JWT_SECRET.*GATE_USER_JWKS_URL/);
    expect(() => createGateway({}, { upstream: fakeUpstream(), daytona: fakeDaytona() })).toThrow(/GATE_USER_JWT_SECRET/);
  });
  it('starts in demo mode without a secret', () => {
    expect(resolveConfig({ demo: true }).demo).toBe(true);
  });
  it('refuses a short HS256 secret, a malformed JWKS URL, both at once', () => {
    expect(() => resolveConfig({ userJwtSecret: 'short' })).toThrow(/at least 32/);
    expect(() => resolveConfig({ userJwksUrl: 'not a url' })).toThrow(/GATE_USER_JWKS_URL/);
    expect(() => resolveConfig({ userJwtSecret: SECRET, userJwksUrl: 'https://idp.example/jwks' })).toThrow(/only one/);
  });
  it('refuses reserved or invalid ports in the allow-list and bad origins', () => {
    expect(() => resolveConfig({ userJwtSecret: SECRET, allowedPorts: [22222] })).toThrow(/reserved port 22222/);
    expect(() => resolveConfig({ userJwtSecret: SECRET, allowedPorts: [70000] })).toThrow(/GATE_ALLOWED_PORTS/);
    expect(() => resolveConfig({ userJwtSecret: SECRET, allowedOrigins: ['https://ide.example/'] })).toThrow(/GATE_ALLOWED_ORIGINS/);
    expect(() => resolveConfig({ userJwtSecret: SECRET, accessTtlSeconds: 5 })).toThrow(/GATE_ACCESS_TTL/);
  });
  it('applies the documented defaults', () => {
    const c = resolveConfig({ userJwtSecret: SECRET });
    expect(c).toMatchObject({
      previewDomain: 'preview.localhost',
      publicScheme: 'http',
      publicPort: null,
      accessTtlMs: 300_000,
      refreshTtlMs: 43_200_000,
      refreshGraceMs: 20_000,
      launchCodeTtlMs: 60_000,
      wsTicketTtlMs: 30_000,
      autoStart: false,
      allowedOrigins: [],
    });
  });
  it('reads the environment (GATE_* and DAYTONA_*)', () => {
    const e = configFromEnv({
      GATE_PORT: '0',
      GATE_USER_JWT_SECRET: SECRET,
      GATE_PUBLIC_PORT: '',
      GATE_PUBLIC_SCHEME: 'https',
      GATE_ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      GATE_ALLOWED_PORTS: '3000,8080',
      GATE_AUTO_START: 'true',
      GATE_ACCESS_TTL: '120',
      DAYTONA_API_URL: 'http://127.0.0.1:4000/api',
      DAYTONA_API_KEY: 'k',
    });
    expect(e.port).toBe(0);
    expect(e.daytonaApi).toEqual({ apiUrl: 'http://127.0.0.1:4000/api', apiKey: 'k' });
    const c = resolveConfig(e.config);
    expect(c.publicPort).toBeNull();
    expect(c.publicScheme).toBe('https');
    expect([...c.allowedPorts!]).toEqual([3000, 8080]);
    expect(c.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.autoStart).toBe(true);
    expect(c.accessTtlMs).toBe(120_000);
    expect(() => configFromEnv({ GATE_AUTO_START: 'maybe' })).toThrow(/GATE_AUTO_START/);
    expect(() => configFromEnv({ GATE_SIGNING_KEYS: '{nope' })).toThrow(/GATE_SIGNING_KEYS/);
  });
  it('names the variable of every option read from the environment, with one prefix', () => {
    expect(() => resolveConfig({ userJwtSecret: SECRET, refreshTtlSeconds: 5 })).toThrow(/^preview-gate config: refreshTtlSeconds \(GATE_REFRESH_TTL\)/);
    expect(() => configFromEnv({ GATE_REFRESH_TTL: 'soon' })).toThrow(/^preview-gate config: GATE_REFRESH_TTL must be a whole number/);
    expect(() => resolveConfig({ userJwtSecret: SECRET, upgradeTimeoutMs: 5 })).toThrow(/GATE_UPGRADE_TIMEOUT_MS/);
    expect(() => resolveConfig({ userJwtSecret: SECRET, upstreamReplayLimitBytes: -1 })).toThrow(/GATE_UPSTREAM_REPLAY_LIMIT/);
  });
  it('upstream tunables: documented defaults, read from the environment', () => {
    expect(resolveConfig({ userJwtSecret: SECRET })).toMatchObject({
      upstreamReplayLimitBytes: 1 << 20,
      linkCacheTtlMs: 600_000,
      upstreamConnectTimeoutMs: 10_000,
      upstreamResponseTimeoutMs: 300_000,
      upgradeTimeoutMs: 15_000,
    });
    const e = configFromEnv({
      GATE_USER_JWT_SECRET: SECRET,
      GATE_UPSTREAM_REPLAY_LIMIT: '0',
      GATE_LINK_CACHE_TTL: '30',
      GATE_UPSTREAM_CONNECT_TIMEOUT_MS: '2500',
      GATE_UPSTREAM_RESPONSE_TIMEOUT_MS: '60000',
      GATE_UPGRADE_TIMEOUT_MS: '5000',
    });
    expect(resolveConfig(e.config)).toMatchObject({
      upstreamReplayLimitBytes: 0,
      linkCacheTtlMs: 30_000,
      upstreamConnectTimeoutMs: 2500,
      upstreamResponseTimeoutMs: 60_000,
      upgradeTimeoutMs: 5000,
    });
  });
  it('a resolved configuration is taken as it is (resolved once)', async () => {
    const c = resolveConfig({ userJwtSecret: SECRET, previewDomain: 'p.example.com' });
    const gw = await createGateway(c, { upstream: fakeUpstream(), daytona: fakeDaytona() });
    expect(gw.config).toBe(c);
    await gw.close();
  });
});
