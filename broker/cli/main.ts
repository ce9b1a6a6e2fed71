#!/usr/bin/env node
/**
 * `preview-gate <command>`: the package's command line (package.json `bin`). Runs from the
 * built package (dist/lib/cli.js) with production dependencies only: no tsx, no build step.
 *
 *   gateway   the gateway configured from the environment (what `npm run gateway` runs)
 *   emulator  the local Daytona emulator (demo/emulator), to build against without an account
 *   keys      a GATE_SIGNING_KEYS set; `keys rotate` adds a new signing key in front of one
 *   token     a user-session JWT signed with GATE_USER_JWT_SECRET, for trying things
 *   doctor    checks the configuration, Daytona, the identity provider, Redis, the preview domain
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { packageVersion } from '../node/version.js';
import { HELP, type Command } from './help.js';

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function fail(message: string, code = 2): never {
  process.stderr.write(`preview-gate: ${message}\n`);
  process.exit(code);
}

type Options = Record<string, { type: 'string' | 'boolean'; short?: string }>;
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

function parse<const O extends Options>(command: Command, args: string[], options: O) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options: { ...HELP_OPTION, ...options } });
  } catch (err) {
    fail(`${err instanceof Error ? err.message : String(err)}\nRun: preview-gate ${command} --help`);
  }
}

async function gateway(args: string[]): Promise<void> {
  const { values } = parse('gateway', args, { port: { type: 'string' }, host: { type: 'string' } });
  if (values.help) return out(HELP.gateway);
  if (typeof values.port === 'string') process.env.GATE_PORT = values.port;
  if (typeof values.host === 'string') process.env.GATE_HOST = values.host;
  await import('../node/main.js');
}

async function emulator(args: string[]): Promise<void> {
  const { values } = parse('emulator', args, { port: { type: 'string' }, 'api-key': { type: 'string' } });
  if (values.help) return out(HELP.emulator);
  if (typeof values.port === 'string') process.env.EMULATOR_PORT = values.port;
  if (typeof values['api-key'] === 'string') process.env.EMULATOR_API_KEY = values['api-key'];
  await import('../../demo/emulator/main.js');
}

async function keys(args: string[]): Promise<void> {
  const { values, positionals } = parse('keys', args, { from: { type: 'string' } });
  if (values.help) return out(HELP.keys);
  const { keySet, parseKeySet } = await import('./keys.js');
  const sub = positionals[0];
  if (sub === undefined) return out(JSON.stringify(await keySet()));
  if (sub !== 'rotate') fail(`unknown keys subcommand "${sub}"; run: preview-gate keys --help`);
  const from = typeof values.from === 'string' ? values.from : undefined;
  const text = from === '-' ? readFileSync(0, 'utf8') : (from ?? process.env.GATE_SIGNING_KEYS);
  if (!text?.trim()) fail('keys rotate needs the existing set: GATE_SIGNING_KEYS in the environment, --from \'{"keys":[...]}\' or --from - (stdin)');
  try {
    out(JSON.stringify(await keySet(parseKeySet(text))));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
}

async function token(args: string[]): Promise<void> {
  const { values } = parse('token', args, { user: { type: 'string', short: 'u' }, ttl: { type: 'string' } });
  if (values.help) return out(HELP.token);
  const secret = process.env.GATE_USER_JWT_SECRET;
  if (!secret)
    fail(
      'GATE_USER_JWT_SECRET is not set: token signs with the same HS256 secret the gateway verifies (a gateway on GATE_USER_JWKS_URL takes tokens from your identity provider instead)',
    );
  const userId = typeof values.user === 'string' ? values.user : undefined;
  if (!userId) fail("--user <id> is required (the session's sub, as listed in the preview-gate.users label)");
  const ttl = values.ttl === undefined ? 3600 : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 30 * 86400) fail('--ttl must be seconds from 1 to 2592000');
  const { mintUserSession } = await import('./token.js');
  try {
    out(
      await mintUserSession({
        secret,
        userId,
        ttlSeconds: ttl,
        ...(process.env.GATE_USER_ISSUER ? { issuer: process.env.GATE_USER_ISSUER } : {}),
        ...(process.env.GATE_USER_AUDIENCE ? { audience: process.env.GATE_USER_AUDIENCE } : {}),
      }),
    );
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
}

async function doctor(args: string[]): Promise<void> {
  const { values } = parse('doctor', args, {});
  if (values.help) return out(HELP.doctor);
  const { runDoctor, formatCheck } = await import('./doctor.js');
  const results = await runDoctor(process.env);
  for (const r of results) out(formatCheck(r));
  const failed = results.filter((r) => r.status === 'FAIL').length;
  out(failed ? `${failed} check(s) failed` : 'all checks passed');
  process.exitCode = failed ? 1 : 0;
}

const COMMANDS: Record<Command, (args: string[]) => Promise<void>> = { gateway, emulator, keys, token, doctor };

async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v' || first === 'version') return out(packageVersion());
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = rest[0] as Command | undefined;
    return out(topic && topic in HELP ? HELP[topic] : HELP.main);
  }
  const command = COMMANDS[first as Command];
  if (!command) fail(`unknown command "${first}"\n\n${HELP.main}`);
  await command(rest);
}

await main(process.argv.slice(2));
