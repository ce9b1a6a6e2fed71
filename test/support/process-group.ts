/**
 * Stopping a child started with `detached: true` (its own process group) together with whatever
 * it spawned: SIGTERM to the group, SIGKILL after `graceMs` if it has not exited. Used by the
 * demo process (test/e2e/demo-process.ts) and the framework dev servers (test/frameworks/support.ts).
 */
export async function stopProcessGroup(pid: number, exited: Promise<unknown>, graceMs: number): Promise<void> {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
