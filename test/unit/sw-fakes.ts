/** Fakes shared by the Service Worker unit tests: a Map-backed key-value store (IndexedDB), grants and gateway answers. */
import type { KeyValue, StoredGrant } from '../../sw/worker/token-store.js';

export function memoryKeyValue(): KeyValue & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  return {
    map,
    get: async (k) => map.get(k),
    set: async (k, v) => void map.set(k, v),
    del: async (k) => void map.delete(k),
  };
}

export function grant(accessToken: string, now: number, lifetimeMs = 300_000): StoredGrant {
  return { accessToken, refreshToken: `r-${accessToken}`, expiresAt: now + lifetimeMs, refreshExpiresAt: now + 3_600_000, receivedAt: now };
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}
