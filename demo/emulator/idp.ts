/**
 * The identity provider Daytona's proxy redirects to when no credential works (docs/daytona.md, "Authentication":
 * a 307 to the OIDC authorize URL with PKCE and a `pkce_verifier` cookie, never a 401).
 * The emulated provider lives at `/idp/authorize` on the API origin and signs nobody in:
 * it exists so that a redirect is observable end to end (a browser lands on a sign-in page).
 */
import { createHash, randomBytes } from 'node:crypto';

export const IDP_AUTHORIZE_PATH = '/idp/authorize';
export const PKCE_COOKIE = 'pkce_verifier';

export interface AuthRedirect {
  location: string;
  setCookie: string;
}

/** Builds the 307's Location and the `pkce_verifier` cookie for a request to `returnTo`. */
export function authRedirect(idpOrigin: string, previewOrigin: string, returnTo: string): AuthRedirect {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = Buffer.from(JSON.stringify({ returnTo: previewOrigin + returnTo })).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'daytona',
    redirect_uri: `${previewOrigin}/callback`,
    scope: 'openid profile email',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return {
    location: `${idpOrigin}${IDP_AUTHORIZE_PATH}?${query.toString()}`,
    setCookie: `${PKCE_COOKIE}=${verifier}; Path=/; Max-Age=300; HttpOnly`,
  };
}

export function signInPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in to Daytona</title></head>
<body id="daytona-sign-in"><h1>Sign in to Daytona</h1><p>Emulated identity provider: nobody can sign in here.</p></body></html>
`;
}
