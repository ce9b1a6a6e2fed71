/**
 * Daytona's caching of preview-token checks (docs/daytona.md, "Caching"; proxy source
 * `apps/proxy/pkg/proxy/auth.go`): a check that succeeded is remembered 2 minutes and one that
 * failed 5 seconds, keyed by sandbox and token. So a standard token rotated by a restart, or a
 * signed token expired or revoked, may keep working up to 2 minutes; a token that failed once
 * keeps failing for 5 s even if it became valid. Off by default in the emulator (strict).
 */
export const VALID_TTL_MS = 2 * 60_000;
export const INVALID_TTL_MS = 5_000;

export class TokenCheckCache {
  private readonly entries = new Map<string, { valid: boolean; until: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** The remembered verdict for `key`, else `fresh()` (then remembered). */
  check(key: string, fresh: () => boolean): boolean {
    const t = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > t) return hit.valid;
    const valid = fresh();
    this.entries.set(key, { valid, until: t + (valid ? VALID_TTL_MS : INVALID_TTL_MS) });
    if (this.entries.size > 10_000) this.entries.delete(this.entries.keys().next().value as string);
    return valid;
  }
}
