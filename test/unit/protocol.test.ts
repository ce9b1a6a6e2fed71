import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, GateError, bearerErrorFor, isErrorCode, parsePreviewLabel } from '../../protocol/index.js';

describe('parsePreviewLabel (Daytona host parsing: first label, cut at the first dash)', () => {
  it('keeps the dashes of a UUID sandbox id', () => {
    expect(parsePreviewLabel('3000-6f1c7a9e-1b2c-4d3e-8f90-123456789abc')).toEqual({
      port: 3000,
      sandboxId: '6f1c7a9e-1b2c-4d3e-8f90-123456789abc',
    });
  });
  it.each(['0-abc', '65536-abc', '03000-abc', 'abc-def', '-abc', '3000-', '3000', '99999999-abc', '+3000-a', '3e3-a'])('refuses %s', (label) => {
    expect(parsePreviewLabel(label)).toBeNull();
  });
  it('accepts the bounds 1 and 65535', () => {
    expect(parsePreviewLabel('1-a')?.port).toBe(1);
    expect(parsePreviewLabel('65535-a')?.port).toBe(65535);
  });
});

describe('GateError', () => {
  it('carries the one status of its code and serialises to the documented body', () => {
    const err = new GateError('token_expired', 'The access token expired.');
    expect(err.status).toBe(401);
    expect(err.toJSON()).toEqual({ error: { code: 'token_expired', message: 'The access token expired.' } });
  });
  it('maps 401 codes to RFC 6750 error values', () => {
    expect(bearerErrorFor('missing_credential')).toBe('invalid_request');
    expect(bearerErrorFor('token_expired')).toBe('invalid_token');
  });
  it('recognises only its own codes', () => {
    expect(isErrorCode('wrong_scope')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(Object.values(ERROR_STATUS).every((s) => s >= 400 && s < 600)).toBe(true);
  });
});
