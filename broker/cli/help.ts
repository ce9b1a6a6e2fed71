/** The CLI's help texts (one per command; `--help` prints them). */

export type Command = 'gateway' | 'emulator' | 'keys' | 'token' | 'doctor';

const MAIN = `preview-gate: an authenticated preview gateway for private Daytona sandboxes

Usage: preview-gate <command> [options]

Commands:
  gateway    run the gateway, configured from the environment (GATE_*, DAYTONA_*)
  emulator   run the local Daytona emulator (one sample sandbox), to try the gateway without an account
  keys       print a new GATE_SIGNING_KEYS set; "keys rotate" adds a new signing key to an existing one
  token      mint a user-session JWT with GATE_USER_JWT_SECRET, for trying things
  doctor     check the configuration, Daytona, the identity provider, Redis and the preview domain

Options:
  --version  print the version
  --help     this text; "preview-gate <command> --help" for a command

Every environment variable: docs/configuration.md in the package.`;

export const HELP: Record<Command | 'main', string> = {
  main: MAIN,
  gateway: `Usage: preview-gate gateway [--port N] [--host ADDR]

Runs the gateway configured from the environment. Required: a way to verify user sessions
(GATE_USER_JWT_SECRET or GATE_USER_JWKS_URL) and Daytona (DAYTONA_API_URL, DAYTONA_API_KEY).
Prints GATEWAY_URL=... and JWKS_URL=... once ready; SIGINT/SIGTERM stop it.

Options:
  --port N       listening port (GATE_PORT, default 8787)
  --host ADDR    listening interface (GATE_HOST, default 127.0.0.1; 0.0.0.0 in a container)

Try it against the emulator:
  terminal 1:  preview-gate emulator
  terminal 2:  DAYTONA_API_URL=http://127.0.0.1:4000/api DAYTONA_API_KEY=emulator-key \\
               GATE_USER_JWT_SECRET=$(openssl rand -hex 32) preview-gate gateway`,
  emulator: `Usage: preview-gate emulator [--port N] [--api-key KEY]

Runs a local stand-in for Daytona's API and preview proxy with one started sample sandbox
(labelled preview-gate.users=*). Prints DAYTONA_API_URL, DAYTONA_API_KEY, SANDBOX_ID,
PREVIEW_URL and PREVIEW_TOKEN once ready. Not Daytona: for development and tests only.

Options:
  --port N        listening port (EMULATOR_PORT, default 4000; 0 = any free port)
  --api-key KEY   the API key it accepts (EMULATOR_API_KEY, default emulator-key)

Environment:
  EMULATOR_BIND   sandbox ports bound to servers on this machine, e.g.
                  3000=http://127.0.0.1:4123,8501=http://127.0.0.1:4124 (HTTP and WebSocket;
                  a BOUND_PREVIEW_URL_{port} line each)`,
  keys: `Usage: preview-gate keys                 print a new set of one ES256 signing key
       preview-gate keys rotate [--from SET|-]   print SET with a new signing key in front

The output is the JSON value of GATE_SIGNING_KEYS (private keys: keep it secret):
  export GATE_SIGNING_KEYS="$(preview-gate keys)"
The first key signs, every key verifies. To rotate without logging anyone out: deploy the
rotated set to every instance; remove an old key once the longest token it signed has expired
(share links: up to their TTL, at most 30 days). "rotate" reads the existing set from --from,
or from stdin with "--from -", or from GATE_SIGNING_KEYS.`,
  token: `Usage: preview-gate token --user ID [--ttl SECONDS]

Prints a user-session JWT (HS256, sub=ID, exp=now+SECONDS, default 3600) signed with
GATE_USER_JWT_SECRET, with GATE_USER_ISSUER / GATE_USER_AUDIENCE as iss / aud when set:
  curl -H "Authorization: Bearer $(preview-gate token --user ana)" -H 'content-type: application/json' \\
       -d '{"sandboxId":"…","port":3000}' http://127.0.0.1:8787/api/previews
For trying things: real sessions come from your app's backend or identity provider.`,
  doctor: `Usage: preview-gate doctor

Checks, with the environment the gateway would read: the configuration (every variable valid),
the Daytona API and key, the identity provider's JWKS (GATE_USER_JWKS_URL), Redis (GATE_REDIS_URL,
a PING), the preview domain (wildcard DNS) and risky settings. One line per check:
"ok", "warn" (works, probably not what you want) or "FAIL" with what to fix.
Exit status 1 when a check fails.`,
};
