/**
 * What operators see: the version in /healthz, /metrics behind a bearer token (closed from the
 * environment by default), request ids accepted, propagated to the sandbox app and answered,
 * the request log line (request id, refusal code and reason), and the log level.
 */
import { describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../broker/core/logger.js';
import { configFromEnv } from '../../broker/node/config-env.js';
import { startGateway } from '../../broker/node/server.js';
import { packageVersion } from '../../broker/node/version.js';
import { makeGateway, SBX } from '../gateway/helpers.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

describe('operator features', () => {
  it('/healthz names the version', async () => {
    const t = await makeGateway({}, { version: '9.8.7' });
    expect(await (await t.api('/healthz')).json()).toEqual({ status: 'ok', version: '9.8.7' });
  });

  it("the Node gateway's first log line names the version, and /healthz too", async () => {
    const events: { event: string; fields?: Record<string, unknown> }[] = [];
    const log = (event: string, fields?: Record<string, unknown>) => void events.push({ event, ...(fields ? { fields } : {}) });
    const gw = await startGateway({
      config: { userJwtSecret: 's'.repeat(40) },
      port: 0,
      daytonaApi: { apiUrl: 'http://127.0.0.1:9/api', apiKey: 'k' },
      logger: { info: log, warn: log, error: log },
    });
    try {
      expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
      expect(events[0]).toMatchObject({ event: 'starting', fields: { version: packageVersion() } });
      expect(await (await fetch(`${gw.url}/healthz`)).json()).toEqual({ status: 'ok', version: packageVersion() });
    } finally {
      await gw.close();
    }
  });

  it('/metrics without the configured bearer token is refused; with it, served', async () => {
    const t = await makeGateway({ metricsToken: METRICS_TOKEN });
    const none = await t.api('/metrics');
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe('missing_credential');
    const wrong = await t.api('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN.replace('0', '1')}` } });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.code).toBe('invalid_token');
    const ok = await t.api('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('pg_http_request_duration_seconds');
  });

  it('/metrics of a gateway configured from the environment is closed unless GATE_METRICS_TOKEN is set', async () => {
    const base = { GATE_USER_JWT_SECRET: 's'.repeat(40) };
    const closed = configFromEnv(base).config;
    expect(closed.metricsToken).toBeNull();
    const t = await makeGateway({ metricsToken: closed.metricsToken });
    const res = await t.api('/metrics');
    expect(res.status).toBe(404);
    expect((await res.json()).error.message).toContain('GATE_METRICS_TOKEN');
    expect(configFromEnv({ ...base, GATE_METRICS_TOKEN: METRICS_TOKEN }).config.metricsToken).toBe(METRICS_TOKEN);
    expect(() => makeGateway({ metricsToken: 'short' })).rejects.toThrow(/GATE_METRICS_TOKEN/);
  });

  it('accepts X-Request-Id, passes it to the sandbox app and answers it; generates one otherwise', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch('bob');
    const given = await t.preview('/page', { headers: { cookie, 'x-request-id': 'trace-42.abc' } });
    expect(given.status).toBe(200);
    expect(given.headers.get('x-request-id')).toBe('trace-42.abc');
    expect(t.upstream.seen.at(-1)!.request.headers.get('x-request-id')).toBe('trace-42.abc');
    const fresh = await t.preview('/page', { headers: { cookie } });
    const generated = fresh.headers.get('x-request-id');
    expect(generated).toMatch(/^[A-Za-z0-9_-]{10,}$/);
    expect(t.upstream.seen.at(-1)!.request.headers.get('x-request-id')).toBe(generated);
    // A value that could forge log lines is replaced, not repeated.
    const forged = await t.api('/healthz', { headers: { 'x-request-id': 'a b"c' } });
    expect(forged.headers.get('x-request-id')).not.toBe('a b"c');
  });

  it('logs every refusal with its request id, code and reason', async () => {
    const t = await makeGateway();
    await t.api('/api/previews', { method: 'POST', headers: { 'x-request-id': 'rid-refused' }, body: JSON.stringify({ sandboxId: SBX, port: 3000 }) });
    const line = t.logs.find((l) => l.event === 'request' && l.fields?.rid === 'rid-refused');
    expect(line?.fields).toMatchObject({ status: 401, code: 'missing_credential', reason: expect.stringContaining('Authorization: Bearer') });
    await t.api('/healthz', { headers: { 'x-request-id': 'rid-ok' } });
    const ok = t.logs.find((l) => l.fields?.rid === 'rid-ok');
    expect(ok?.fields).toMatchObject({ status: 200 });
    expect(ok?.fields?.code).toBeUndefined();
  });

  it('GATE_LOG_LEVEL drops the lines below it', () => {
    const lines: string[] = [];
    const warn = createJsonLogger((l) => lines.push(l), 'warn');
    warn.info('request', {});
    warn.warn('origin_not_allowed', {});
    expect(lines.map((l) => JSON.parse(l).event)).toEqual(['origin_not_allowed']);
    const debug = createJsonLogger((l) => lines.push(l), 'debug');
    debug.debug?.('detail', {});
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ level: 'debug', event: 'detail' });
    expect(configFromEnv({ GATE_USER_JWT_SECRET: 's'.repeat(40), GATE_LOG_LEVEL: 'warn' }).logLevel).toBe('warn');
    expect(() => configFromEnv({ GATE_USER_JWT_SECRET: 's'.repeat(40), GATE_LOG_LEVEL: 'loud' })).toThrow(/GATE_LOG_LEVEL/);
  });
});
