/**
 * Header lists as Node's HTTP parser produced them (the client's request, Daytona's answer), made
 * into the core's HeaderList. Node's parser is strict unless told otherwise: it refuses NUL, CR
 * and LF in a value and reads bytes as Latin-1, which is all a Fetch `Headers` would check of a
 * value, so a strict parser's values are not tested again (core/http/header-list.ts fromParsed).
 * A process started with `--insecure-http-parser` (on the command line or in NODE_OPTIONS) gets
 * every value checked, as before.
 */
import { HeaderList } from '../core/http/header-list.js';

/** Whether this process's parsers are Node's strict ones (the servers and clients here never ask for the lenient one). */
export const parserIsStrict = ![...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].includes('--insecure-http-parser');

/** A parsed message's `rawHeaders` as the core's Headers. */
export function headersFromParser(raw: readonly string[]): Headers {
  return (parserIsStrict ? HeaderList.fromParsed(raw) : HeaderList.fromRaw(raw)) as unknown as Headers;
}
