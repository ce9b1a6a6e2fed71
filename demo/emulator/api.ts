/**
 * The Daytona API face at `/api` (node:http, no framework: a table of routes). Only the routes
 * the SDK calls for create/get/list/start/stop/delete, preview links, signed URLs, labels and
 * the public flag (docs/daytona.md, "The SDK"). Every route requires
 * `Authorization: Bearer <apiKey>` (401 otherwise); unknown sandbox → 404; bad port → 400
 * "Invalid port"; errors in NestJS's `{path,timestamp,statusCode,error,message}` shape.
 * The Socket.IO endpoint the SDK connects to by default (`/api/socket.io/`) is events.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendApiError, sendJson } from './errors.js';
import { isValidPort } from './host.js';
import { sandboxJson } from './sandbox-json.js';
import type { CreateParams, SandboxRecord, SandboxStore } from './sandboxes.js';

export interface ApiContext {
  store: SandboxStore;
  apiKey: string;
  /** `http://{port}-{idOrToken}.{proxyDomain}:{emulatorPort}` */
  previewUrl(port: number, idOrToken: string): string;
  toolboxProxyUrl(): string;
  countPreviewUrlRequest(): void;
  countSignedPreviewUrlRequest(): void;
}

type Handler = (ctx: ApiContext, req: IncomingMessage, res: ServerResponse, p: string[], url: URL) => Promise<void> | void;

const MAX_BODY = 1024 * 1024;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, 'Payload too large');
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ApiError(400, 'Invalid JSON body');
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new ApiError(400, 'labels and env must be objects of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) out[k] = String(v);
  return out;
}

function sandboxOr404(ctx: ApiContext, idOrName: string | undefined): SandboxRecord {
  const record = idOrName === undefined ? undefined : ctx.store.get(idOrName);
  if (!record) throw new ApiError(404, `Sandbox with ID or name ${idOrName} not found`);
  return record;
}

function portOr400(text: string | undefined): number {
  const port = /^\d{1,6}$/.test(text ?? '') ? Number(text) : NaN;
  if (!isValidPort(port)) throw new ApiError(400, 'Invalid port');
  return port;
}

const json = (ctx: ApiContext, r: SandboxRecord) => sandboxJson(r, ctx.toolboxProxyUrl());

const ROUTES: [string, RegExp, Handler][] = [
  [
    'GET',
    /^\/sandbox$/,
    (ctx, _req, res, _p, url) => {
      const labels = url.searchParams.get('labels');
      let wanted: Record<string, string> = {};
      try {
        wanted = labels ? (JSON.parse(labels) as Record<string, string>) : {};
      } catch {
        throw new ApiError(400, 'labels must be a JSON object');
      }
      const items = ctx.store
        .list()
        .filter((r) => Object.entries(wanted).every(([k, v]) => r.labels[k] === v))
        .filter((r) => !url.searchParams.get('id') || r.id === url.searchParams.get('id'))
        .filter((r) => !url.searchParams.get('name') || r.name === url.searchParams.get('name'))
        .map((r) => json(ctx, r));
      sendJson(res, 200, { items, nextCursor: null });
    },
  ],
  [
    'POST',
    /^\/sandbox$/,
    async (ctx, req, res) => {
      const body = await readJson(req);
      const params: CreateParams = {
        labels: stringRecord(body.labels),
        env: stringRecord(body.env),
        public: body.public === true,
      };
      if (typeof body.name === 'string' && body.name) {
        if (ctx.store.get(body.name)) throw new ApiError(409, `Sandbox with name ${body.name} already exists`);
        params.name = body.name;
      }
      if (typeof body.user === 'string') params.user = body.user;
      if (typeof body.target === 'string') params.target = body.target;
      const { record, started } = ctx.store.create(params);
      started.catch(() => undefined);
      sendJson(res, 200, json(ctx, record));
    },
  ],
  ['GET', /^\/sandbox\/([^/]+)$/, (ctx, _req, res, p) => sendJson(res, 200, json(ctx, sandboxOr404(ctx, p[0])))],
  [
    'DELETE',
    /^\/sandbox\/([^/]+)$/,
    async (ctx, _req, res, p) => {
      const record = sandboxOr404(ctx, p[0]);
      await ctx.store.delete(record);
      sendJson(res, 200, json(ctx, record));
    },
  ],
  [
    'POST',
    /^\/sandbox\/([^/]+)\/start$/,
    (ctx, _req, res, p) => {
      const record = sandboxOr404(ctx, p[0]);
      ctx.store.start(record).catch(() => undefined);
      sendJson(res, 200, json(ctx, record));
    },
  ],
  [
    'POST',
    /^\/sandbox\/([^/]+)\/stop$/,
    (ctx, _req, res, p) => {
      const record = sandboxOr404(ctx, p[0]);
      ctx.store.stop(record).catch(() => undefined);
      sendJson(res, 200, json(ctx, record));
    },
  ],
  [
    'POST',
    /^\/sandbox\/([^/]+)\/pause$/,
    (ctx, _req, res, p) => {
      const record = sandboxOr404(ctx, p[0]);
      if (record.state !== 'started' && record.state !== 'pausing' && record.state !== 'paused') throw new ApiError(400, 'Sandbox is not started');
      ctx.store.pause(record).catch(() => undefined);
      sendJson(res, 200, json(ctx, record));
    },
  ],
  [
    'POST',
    /^\/sandbox\/([^/]+)\/archive$/,
    (ctx, _req, res, p) => {
      const record = sandboxOr404(ctx, p[0]);
      if (record.state !== 'stopped' && record.state !== 'archiving' && record.state !== 'archived') throw new ApiError(400, 'Sandbox is not stopped');
      ctx.store.archive(record).catch(() => undefined);
      sendJson(res, 200, json(ctx, record));
    },
  ],
  [
    'POST',
    /^\/sandbox\/([^/]+)\/public\/([^/]+)$/,
    (ctx, _req, res, p) => {
      const record = sandboxOr404(ctx, p[0]);
      if (p[1] !== 'true' && p[1] !== 'false') throw new ApiError(400, 'isPublic must be true or false');
      ctx.store.setPublic(record, p[1] === 'true');
      sendJson(res, 201, json(ctx, record));
    },
  ],
  [
    'PUT',
    /^\/sandbox\/([^/]+)\/labels$/,
    async (ctx, req, res, p) => {
      const record = sandboxOr404(ctx, p[0]);
      const body = await readJson(req);
      ctx.store.setLabels(record, stringRecord(body.labels) ?? {});
      sendJson(res, 200, { labels: record.labels });
    },
  ],
  [
    'POST',
    /^\/sandbox\/([^/]+)\/last-activity$/,
    (ctx, _req, res, p) => {
      ctx.store.touch(sandboxOr404(ctx, p[0]));
      res.writeHead(201, { 'content-length': 0 }).end();
    },
  ],
  [
    'GET',
    /^\/sandbox\/([^/]+)\/toolbox-proxy-url$/,
    (ctx, _req, res, p) => {
      sandboxOr404(ctx, p[0]);
      sendJson(res, 200, { url: ctx.toolboxProxyUrl() });
    },
  ],
  [
    'GET',
    /^\/sandbox\/([^/]+)\/ports\/([^/]+)\/preview-url$/,
    (ctx, _req, res, p) => {
      ctx.countPreviewUrlRequest();
      const record = sandboxOr404(ctx, p[0]);
      const port = portOr400(p[1]);
      sendJson(res, 200, { sandboxId: record.id, url: ctx.previewUrl(port, record.id), token: record.token });
    },
  ],
  [
    'GET',
    /^\/sandbox\/([^/]+)\/ports\/([^/]+)\/signed-preview-url$/,
    (ctx, _req, res, p, url) => {
      ctx.countSignedPreviewUrlRequest();
      const record = sandboxOr404(ctx, p[0]);
      const port = portOr400(p[1]);
      // docs/daytona.md: expiresInSeconds defaults to 60 and must lie in 1–86400.
      const raw = url.searchParams.get('expiresInSeconds');
      const ttl = raw === null ? 60 : /^-?\d+$/.test(raw) ? Number(raw) : NaN;
      if (!(ttl >= 1 && ttl <= 86400)) throw new ApiError(400, 'expiresInSeconds must be between 1 and 86400 seconds');
      const signed = ctx.store.issueSigned(record, port, ttl);
      sendJson(res, 200, { sandboxId: record.id, port, token: signed.token, url: ctx.previewUrl(port, signed.token) });
    },
  ],
  [
    'POST',
    /^\/sandbox\/([^/]+)\/ports\/([^/]+)\/signed-preview-url\/([^/]+)\/expire$/,
    (ctx, _req, res, p) => {
      const record = sandboxOr404(ctx, p[0]);
      portOr400(p[1]);
      const signed = ctx.store.lookupSigned(p[2] ?? '');
      if (signed && signed.sandboxId === record.id) ctx.store.expireSigned(signed.token);
      res.writeHead(201, { 'content-length': 0 }).end();
    },
  ],
];

/** Handles one request whose path starts with `/api`. `path` is the part after `/api`. */
export async function handleApi(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname.slice('/api'.length) || '/';
  try {
    if (path === '/health' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || auth.slice(7).trim() !== ctx.apiKey) throw new ApiError(401, 'Unauthorized');
    for (const [method, pattern, handler] of ROUTES) {
      if (method !== req.method) continue;
      const match = pattern.exec(path);
      if (!match) continue;
      let params: string[];
      try {
        params = match.slice(1).map((s) => decodeURIComponent(s));
      } catch {
        throw new ApiError(400, 'Malformed path');
      }
      return await handler(ctx, req, res, params, url);
    }
    throw new ApiError(404, `Cannot ${req.method} ${url.pathname}`);
  } catch (err) {
    if (res.headersSent) return void res.destroy();
    if (err instanceof ApiError) return sendApiError(req, res, err.status, err.message);
    sendApiError(req, res, 500, 'Internal server error');
  }
}
