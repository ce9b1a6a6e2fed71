/**
 * The one reader of the gateway's coded error answers (protocol/error-answer.ts), used by the
 * Service Worker, the launch page and the embed, and the one "session is over" list.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, GateError, isSessionOver, readErrorAnswer, SESSION_OVER_CODES } from '../../protocol/index.js';
import { errorResponse } from '../../broker/core/http/respond.js';

const parts = async (res: Response) => ({
  status: res.status,
  contentType: res.headers.get('content-type'),
  wwwAuthenticate: res.headers.get('www-authenticate'),
  body: await res.text(),
});

describe('readErrorAnswer reads back every answer respond.ts writes', () => {
  it('JSON and HTML answers, for every code', async () => {
    for (const code of Object.keys(ERROR_STATUS) as (keyof typeof ERROR_STATUS)[]) {
      const err = new GateError(code, `about ${code}`);
      const json = await parts(errorResponse(err, new Request('http://x/', { headers: { accept: 'application/json' } })));
      expect(readErrorAnswer(json)).toEqual({ code, message: `about ${code}` });
      const html = await parts(errorResponse(err, new Request('http://x/', { headers: { accept: 'text/html' } })));
      expect(readErrorAnswer(html)?.code).toBe(code);
    }
  });

  it('falls back to WWW-Authenticate (the most specific code named there wins over invalid_token)', () => {
    const header = 'Bearer error="invalid_token", error_description="the token expired", error_code="token_expired"';
    expect(readErrorAnswer({ status: 401, contentType: 'text/plain', wwwAuthenticate: header, body: '' })?.code).toBe('token_expired');
    expect(readErrorAnswer({ status: 401, contentType: null, wwwAuthenticate: 'Bearer error="invalid_token"', body: '' })?.code).toBe('invalid_token');
  });

  it("names no code for answers that are not the gateway's (unknown code, broken JSON, a foreign page)", () => {
    expect(readErrorAnswer({ status: 500, contentType: 'application/json', wwwAuthenticate: null, body: '{"error":{"code":"made_up"}}' })).toBeNull();
    expect(readErrorAnswer({ status: 502, contentType: 'application/json', wwwAuthenticate: null, body: '{nope' })).toBeNull();
    expect(readErrorAnswer({ status: 502, contentType: 'text/html', wwwAuthenticate: null, body: '<h1>Bad gateway</h1>' })).toBeNull();
    expect(readErrorAnswer({ status: 401, contentType: 'text/html', wwwAuthenticate: null, body: '<body data-gate-code="nonsense">' })).toBeNull();
  });
});

describe('SESSION_OVER_CODES', () => {
  it('holds only 401 codes, and the session-ending ones', () => {
    for (const code of SESSION_OVER_CODES) expect(ERROR_STATUS[code]).toBe(401);
    for (const code of ['session_revoked', 'invalid_session', 'refresh_reused', 'share_revoked', 'share_expired', 'invalid_code'])
      expect(isSessionOver(code)).toBe(true);
    for (const code of ['forbidden', 'wrong_scope', 'sandbox_stopped', 'internal', 'storage_refused', 42]) expect(isSessionOver(code)).toBe(false);
  });
});
