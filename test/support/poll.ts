/**
 * Polling a probe until it answers truthy, for the browser tests (a page being replaced throws:
 * that counts as "not yet"). The timeout message names what was awaited and the last error.
 */
export async function pollUntil<T>(what: string, probe: () => T | Promise<T>, o: { timeoutMs?: number; everyMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, o.everyMs ?? 100));
  }
}
