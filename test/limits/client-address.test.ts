/** The client address behind rate limits: the socket peer, or X-Forwarded-For read only through trusted proxies. */
import { describe, expect, it } from 'vitest';
import { createClientAddressResolver } from '../../broker/node/client-address.js';
import { configFromEnv } from '../../broker/node/config-env.js';
import { resolveConfig } from '../../broker/core/config.js';

describe('client address resolution', () => {
  it('X-Forwarded-For from an untrusted peer is ignored (a client cannot pick its own address)', () => {
    const none = createClientAddressResolver([]);
    expect(none('198.51.100.1', '203.0.113.9')).toBe('198.51.100.1');
    const some = createClientAddressResolver(['10.0.0.0/8']);
    expect(some('198.51.100.1', '203.0.113.9')).toBe('198.51.100.1');
  });

  it('through trusted proxies the first untrusted hop from the right is the client; entries left of it are never read', () => {
    const r = createClientAddressResolver(['10.0.0.0/8', '::1']);
    expect(r('10.1.2.3', '203.0.113.9')).toBe('203.0.113.9');
    expect(r('10.1.2.3', '1.1.1.1, 203.0.113.9, 10.0.0.7')).toBe('203.0.113.9');
    expect(r('::1', ['192.0.2.1', '10.0.0.2'])).toBe('192.0.2.1');
    expect(r('::ffff:10.0.0.1', '192.0.2.5')).toBe('192.0.2.5');
    // Only trusted hops: the leftmost is the best known; garbage ends the walk at the last trusted hop.
    expect(r('10.0.0.1', '10.0.0.2')).toBe('10.0.0.2');
    expect(r('10.0.0.1', 'not-an-ip')).toBe('10.0.0.1');
    expect(r('10.0.0.1', undefined)).toBe('10.0.0.1');
  });

  it('a malformed GATE_TRUSTED_PROXIES entry is refused with the variable named; good ones are accepted', () => {
    expect(() => resolveConfig({ demo: true, trustedProxies: ['10.0.0.0/33'] })).toThrow(/GATE_TRUSTED_PROXIES/);
    expect(() => resolveConfig({ demo: true, trustedProxies: ['proxy.example'] })).toThrow(/GATE_TRUSTED_PROXIES/);
    expect(resolveConfig({ demo: true, trustedProxies: ['10.0.0.0/8', '::1', 'fd00::/8'] }).trustedProxies).toEqual(['10.0.0.0/8', '::1', 'fd00::/8']);
  });

  it('limits come from the environment; a malformed value names the variable', () => {
    const { config } = configFromEnv({
      GATE_DEMO: 'true',
      GATE_TRUSTED_PROXIES: '10.0.0.1, 10.0.0.2',
      GATE_RATE_LIMITS: 'launch=5/10,exchange=/7',
      GATE_MAX_SESSIONS_PER_USER: '9',
      GATE_RATE_WINDOW: '30',
    });
    const r = resolveConfig(config);
    expect(r.trustedProxies).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(r.limits.rates.launch).toEqual({ user: 5, address: 10 });
    expect(r.limits.rates.exchange).toEqual({ user: 0, address: 7 });
    expect(r.limits.rates.share).toEqual({ user: 30, address: 120 });
    expect(r.limits.maxSessionsPerUser).toBe(9);
    expect(r.limits.windowSeconds).toBe(30);
    expect(resolveConfig(configFromEnv({ GATE_DEMO: 'true', GATE_RATE_LIMITS: 'off' }).config).limits.rates.launch).toEqual({ user: 0, address: 0 });
    expect(() => configFromEnv({ GATE_DEMO: 'true', GATE_RATE_LIMITS: 'lunch=1/2' })).toThrow(/GATE_RATE_LIMITS/);
  });
});
