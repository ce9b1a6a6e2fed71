/**
 * The path a launch lands on: only a path on this same origin, never under /__gate/, so a
 * crafted launch link cannot bounce the person (or the code) anywhere else.
 */
import { RESERVED_PREFIX } from '../../protocol/index.js';

export function safePath(requested: string | null, origin: string): string {
  if (!requested || !requested.startsWith('/') || requested.startsWith('//') || requested.startsWith('/\\')) return '/';
  let url: URL;
  try {
    url = new URL(requested, origin);
  } catch {
    return '/';
  }
  if (url.origin !== origin || url.pathname.startsWith(RESERVED_PREFIX)) return '/';
  return url.pathname + url.search + url.hash;
}
