/** Reading a bounded JSON body of a broker-API or /__gate/ request. */
import { GateError } from '../../../protocol/index.js';

/** Parses the JSON object body; 413 past `limit` bytes, 400 when not a JSON object. */
export async function readJsonObject(req: Request, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > limit) throw new GateError('payload_too_large', `The request body is larger than ${limit} bytes.`);
  if (!req.body) throw new GateError('bad_request', 'A JSON object body is required.');
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new GateError('payload_too_large', `The request body is larger than ${limit} bytes.`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    bytes.set(c, o);
    o += c.byteLength;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new GateError('bad_request', 'The request body is not valid JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new GateError('bad_request', 'The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}
