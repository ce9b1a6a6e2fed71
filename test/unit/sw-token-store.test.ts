import { describe, expect, it } from 'vitest';
import { SW_TOKEN_KEY } from '../../protocol/index.js';
import { createTokenStore } from '../../sw/worker/token-store.js';
import type { KeyValue } from '../../sw/worker/token-store.js';
import { grant, memoryKeyValue } from './sw-fakes.js';

describe('sw token store', () => {
  it('a restarted worker (a new store over the same IndexedDB) still has the tokens', async () => {
    const kv = memoryKeyValue();
    await createTokenStore(kv).write(grant('a1', 0));
    expect(kv.map.has(SW_TOKEN_KEY)).toBe(true);
    expect((await createTokenStore(kv).read())?.accessToken).toBe('a1');
  });

  it('reads IndexedDB once, then memory; forget() makes it read again', async () => {
    const kv = memoryKeyValue();
    let reads = 0;
    const counting = { ...kv, get: async (k: string) => (reads++, kv.get(k)) };
    const store = createTokenStore(counting);
    await kv.set(SW_TOKEN_KEY, grant('a1', 0));
    await store.read();
    await store.read();
    expect(reads).toBe(1);
    await kv.set(SW_TOKEN_KEY, grant('a2', 0)); // the bootstrap wrote a new grant
    store.forget();
    expect((await store.read())?.accessToken).toBe('a2');
  });

  it('with no grant in memory it looks again: a grant the bootstrap just wrote is used at once', async () => {
    const kv = memoryKeyValue();
    const store = createTokenStore(kv);
    expect(await store.read()).toBeUndefined();
    await kv.set(SW_TOKEN_KEY, grant('a1', 0)); // a new launch, no message needed
    expect((await store.read())?.accessToken).toBe('a1');
  });

  it('treats refused storage or a malformed value as "no tokens" (cookie path)', async () => {
    const refused = { get: async () => Promise.reject(new Error('blocked')), set: async () => {}, del: async () => {} };
    expect(await createTokenStore(refused).read()).toBeUndefined();
    const kv = memoryKeyValue();
    await kv.set(SW_TOKEN_KEY, { accessToken: 1 });
    expect(await createTokenStore(kv).read()).toBeUndefined();
  });

  it('storage that never answers does not hang a request: no tokens after the deadline', async () => {
    const silent: KeyValue = { get: () => new Promise(() => {}), set: () => new Promise(() => {}), del: () => new Promise(() => {}) };
    const store = createTokenStore(silent, 20);
    expect(await store.read()).toBeUndefined();
    await expect(store.write(grant('a1', 0))).rejects.toThrow('IndexedDB did not answer');
    await store.clear(); // resolves
  });

  it('clear() removes the tokens from IndexedDB', async () => {
    const kv = memoryKeyValue();
    const store = createTokenStore(kv);
    await store.write(grant('a1', 0));
    await store.clear();
    expect(kv.map.size).toBe(0);
    expect(await createTokenStore(kv).read()).toBeUndefined();
  });
});
