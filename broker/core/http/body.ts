/** Reading a bounded JSON body of a broker-API or /__gate/ request. */
import { GateError } from '../../../protocol/index.js';
import { readUpTo } from '../streams/read-up-to.js';

/** Parses the JSON object body; 413 past `limit` bytes, 400 when not a JSON object. */
export async function readJsonObject(req: Request, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > limit) throw new GateError('payload_too_large', `The request body is larger than ${limit} bytes.`);
  if (!req.body) throw new GateError('bad_request', 'A JSON object body is required.');
  const read = await readUpTo(req.body, limit);
  if (!read.complete) {
    await read.stream.cancel().catch(() => {});
    throw new GateError('payload_too_large', `The request body is larger than ${limit} bytes.`);
  }
  const bytes = read.bytes;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new GateError('bad_request', 'The request body is not valid JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new GateError('bad_request', 'The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}
