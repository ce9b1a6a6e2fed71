/** Token shapes exchanged between the gateway and its clients. */

/** JWT `typ` header values, so one kind of token can never be replayed as another (RFC 8725 §3.11). */
export const TOKEN_TYPES = {
  access: 'pg-access+jwt',
  identity: 'pg-identity+jwt',
  share: 'pg-share+jwt',
} as const;

/** Claims of an access token. `aud` is the exact preview origin, e.g. `http://3000-<id>.preview.localhost:8787`. */
export interface AccessClaims {
  iss: string;
  aud: string;
  sub: string; // user id from the host app's session
  sid: string; // preview-session id (revocable)
  sbx: string; // sandbox id
  port: number;
  iat: number;
  exp: number;
  jti: string;
}

/** What `/__gate/session` and `/__gate/refresh` answer. */
export interface TokenGrant {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  refreshToken: string;
  /** Milliseconds since the epoch; the refresh credential's absolute end. */
  refreshExpiresAt: number;
  /**
   * Apps on several ports (a launch with `ports`): one access token per OTHER granted port of
   * the same sandbox, each scoped to its own origin (`aud`) and port like the main one, minted
   * and renewed with it (same `expiresAt`). Absent for a one-port launch.
   */
  siblings?: SiblingToken[];
}

/** An access token for a sibling origin of the same grant (docs/interface.md, "Apps on several ports"). */
export interface SiblingToken {
  /** The sibling's exact preview origin, e.g. `http://8000-<id>.preview.localhost:8787`. */
  origin: string;
  port: number;
  accessToken: string;
  expiresAt: number;
}

/** Preview origin host label: `{port}-{sandboxId}`. */
export interface PreviewTarget {
  sandboxId: string;
  port: number;
}

/** Parses the first host label `{port}-{rest}` the way Daytona does: cut at the first `-`. */
export function parsePreviewLabel(label: string): PreviewTarget | null {
  const dash = label.indexOf('-');
  if (dash <= 0) return null;
  const portText = label.slice(0, dash);
  const sandboxId = label.slice(dash + 1);
  if (!/^[0-9]{1,5}$/.test(portText) || sandboxId === '') return null;
  const port = Number(portText);
  if (port < 1 || port > 65535 || String(port) !== portText) return null;
  return { sandboxId, port };
}
