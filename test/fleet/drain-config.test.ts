/** GATE_DRAIN_SECONDS (broker/node/config-env.ts): default, accepted values, refusals naming the variable. */
import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../broker/node/config-env.js';

const base = { GATE_USER_JWT_SECRET: 'x'.repeat(40) };

describe('GATE_DRAIN_SECONDS', () => {
  it('defaults to 25 and takes whole seconds, 0 included', () => {
    expect(configFromEnv(base).drainSeconds).toBe(25);
    expect(configFromEnv({ ...base, GATE_DRAIN_SECONDS: '0' }).drainSeconds).toBe(0);
    expect(configFromEnv({ ...base, GATE_DRAIN_SECONDS: ' 90 ' }).drainSeconds).toBe(90);
  });

  it('a malformed or huge value is refused, naming the variable', () => {
    expect(() => configFromEnv({ ...base, GATE_DRAIN_SECONDS: '2.5' })).toThrow(/GATE_DRAIN_SECONDS/);
    expect(() => configFromEnv({ ...base, GATE_DRAIN_SECONDS: '-1' })).toThrow(/GATE_DRAIN_SECONDS/);
    expect(() => configFromEnv({ ...base, GATE_DRAIN_SECONDS: '3601' })).toThrow(/GATE_DRAIN_SECONDS/);
  });
});
