/**
 * The published package, installed the way an integrator installs it: `npm pack` once (prepack
 * builds), the tarball installed into an empty project with `npm install --omit=dev`, and from
 * there the CLI (`--version`, `--help`, `emulator`, `gateway`, `token`, `doctor`), an ESM import
 * of every export, the host-backend client against the running gateway, and a TypeScript file
 * using the core, the client and `<preview-frame>` in JSX type-checked against the installed
 * typings (with a negative control: wrong attribute and event types must not type-check).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packAndInstall, root, runTo, startService, version, type Installed, type Service } from './installed.js';

const SECRET = 'package-test-secret-package-test-secret-0123';
let pkg: Installed;
let emulator: Service | undefined;
let gateway: Service | undefined;

beforeAll(async () => {
  const start = Date.now();
  pkg = await packAndInstall();
  console.log(`pack + install: ${((Date.now() - start) / 1000).toFixed(1)} s`);
}, 300_000);

afterAll(async () => {
  await gateway?.stop();
  await emulator?.stop();
  pkg?.cleanup();
}, 120_000);

describe('the packed tarball', () => {
  it('holds the built code, typings and browser assets, and no tests, demo apps or sources', () => {
    for (const f of [
      'dist/lib/index.js',
      'dist/lib/node.js',
      'dist/lib/client.js',
      'dist/lib/embed.js',
      'dist/lib/cli.js',
      'dist/sw.js',
      'dist/bootstrap.js',
      'dist/embed.js',
      'dist/types/broker/core/index.d.ts',
      'dist/types/sw/embed/package/jsx/react.d.ts',
      'package.json',
    ]) {
      expect(pkg.files, f).toContain(f);
    }
    expect(pkg.files.filter((f) => /^(test|demo|bench|sw|broker|protocol|scripts)\//.test(f))).toEqual([]);
    expect(pkg.files.filter((f) => /sandbox-apps|\.test\./.test(f))).toEqual([]);
  });
});

describe('the installed CLI', () => {
  it('prints its version and help for every command', async () => {
    const v = await runTo(pkg.bin, ['--version'], pkg.project);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(version);
    const main = await runTo(pkg.bin, ['--help'], pkg.project);
    expect(main.code).toBe(0);
    for (const c of ['gateway', 'emulator', 'keys', 'token', 'doctor']) {
      expect(main.stdout).toContain(c);
      const h = await runTo(pkg.bin, [c, '--help'], pkg.project);
      expect(h.code, c).toBe(0);
      expect(h.stdout, c).toMatch(new RegExp(`^Usage: preview-gate ${c}`));
    }
    const bad = await runTo(pkg.bin, ['nonsense'], pkg.project);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "nonsense"');
  });

  it('makes a signing key set the gateway accepts, and rotates it (new key first, old kept)', async () => {
    const one = await runTo(pkg.bin, ['keys'], pkg.project);
    expect(one.code).toBe(0);
    const set = JSON.parse(one.stdout) as { keys: { kid: string; d: string }[] };
    expect(set.keys).toHaveLength(1);
    expect(set.keys[0]!.d).toBeTruthy();
    const rotated = await runTo(pkg.bin, ['keys', 'rotate'], pkg.project, { GATE_SIGNING_KEYS: one.stdout.trim() });
    expect(rotated.code).toBe(0);
    const kids = (JSON.parse(rotated.stdout) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(kids).toHaveLength(2);
    expect(kids[1]).toBe(set.keys[0]!.kid);
    const refused = await runTo(pkg.bin, ['keys', 'rotate', '--from', '{"keys":[]}'], pkg.project);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('EC P-256');
  });

  it('runs the emulator and the gateway from the installed package (no dev dependency, no build), and the client mints a launch URL', async () => {
    emulator = await startService(pkg.bin, ['emulator', '--port', '0'], pkg.project, {}, 'PREVIEW_TOKEN');
    const { DAYTONA_API_URL, DAYTONA_API_KEY, SANDBOX_ID } = emulator.vars;
    expect(DAYTONA_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    const keys = (await runTo(pkg.bin, ['keys'], pkg.project)).stdout.trim();
    gateway = await startService(
      pkg.bin,
      ['gateway', '--port', '0'],
      pkg.project,
      { DAYTONA_API_URL: DAYTONA_API_URL!, DAYTONA_API_KEY: DAYTONA_API_KEY!, GATE_USER_JWT_SECRET: SECRET, GATE_SIGNING_KEYS: keys },
      'JWKS_URL',
    );
    const url = gateway.vars.GATEWAY_URL!;
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', version });
    // The browser assets ship inside the package.
    const embed = await fetch(`${url}/embed.js`);
    expect(embed.status).toBe(200);
    expect((await embed.text()).length).toBeGreaterThan(1000);

    const token = await runTo(pkg.bin, ['token', '--user', 'ana'], pkg.project, { GATE_USER_JWT_SECRET: SECRET });
    expect(token.code).toBe(0);
    const script = `
      import { createPreviewGateClient, PreviewGateApiError } from 'preview-gate/client';
      const gate = createPreviewGateClient({ gatewayUrl: process.argv[1] });
      const launch = await gate.launch({ session: process.argv[2], sandboxId: process.argv[3], port: 3000 });
      const share = await gate.createShare({ session: process.argv[2], sandboxId: process.argv[3], port: 3000, ttlSeconds: 600 });
      const listed = await gate.listShares({ session: process.argv[2] });
      await gate.revokeShare({ session: process.argv[2], id: share.id });
      let refused = null;
      try { await gate.launch({ session: 'not-a-jwt', sandboxId: process.argv[3], port: 3000 }); } catch (e) { refused = e instanceof PreviewGateApiError ? e.code : String(e); }
      console.log(JSON.stringify({ launch: launch.url, listed: listed.map((s) => s.id), share: share.id, refused }));
    `;
    const r = await runTo(process.execPath, ['--input-type=module', '-e', script, url, token.stdout.trim(), SANDBOX_ID!], pkg.project);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as { launch: string; listed: string[]; share: string; refused: string };
    expect(result.launch).toContain(`-${SANDBOX_ID}.preview.localhost`);
    expect(result.launch).toContain('#code=');
    expect(result.listed).toContain(result.share);
    expect(result.refused).toBe('invalid_token');
  }, 90_000);

  it('doctor passes a good configuration and fails a broken one, saying what to fix', async () => {
    expect(emulator, 'needs the emulator of the previous test').toBeDefined();
    const { DAYTONA_API_URL, DAYTONA_API_KEY } = emulator!.vars;
    const good = await runTo(pkg.bin, ['doctor'], pkg.project, {
      DAYTONA_API_URL: DAYTONA_API_URL!,
      DAYTONA_API_KEY: DAYTONA_API_KEY!,
      GATE_USER_JWT_SECRET: SECRET,
      GATE_ALLOWED_ORIGINS: 'https://ide.example.com',
    });
    expect(good.stdout).toMatch(/^ok +config/m);
    expect(good.stdout).toMatch(/^ok +daytona .*accepted/m);
    expect(good.stdout).not.toMatch(/^FAIL/m);
    expect(good.code).toBe(0);

    const broken = await runTo(pkg.bin, ['doctor'], pkg.project, {
      DAYTONA_API_URL: DAYTONA_API_URL!,
      DAYTONA_API_KEY: 'wrong-key',
      GATE_USER_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
      GATE_REDIS_URL: 'redis://127.0.0.1:9',
      GATE_KEYS_SECRET: 'k'.repeat(32), // a valid configuration otherwise (without it the config check fails first)
    });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^FAIL daytona .*refused DAYTONA_API_KEY/m);
    expect(broken.stdout).toMatch(/^FAIL user-sessions .*GATE_USER_JWKS_URL/m);
    expect(broken.stdout).toMatch(/^FAIL redis .*GATE_REDIS_URL/m);

    const invalid = await runTo(pkg.bin, ['doctor'], pkg.project, { GATE_PREVIEW_DOMAIN: 'nodots', GATE_USER_JWT_SECRET: SECRET });
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toMatch(/^FAIL config .*GATE_PREVIEW_DOMAIN/m);
  }, 60_000);
});

describe('the installed modules', () => {
  it('every export imports as ESM in Node (the embed without touching the DOM)', async () => {
    const script = `
      const core = await import('preview-gate');
      const node = await import('preview-gate/node');
      const client = await import('preview-gate/client');
      const embed = await import('preview-gate/embed');
      await import('preview-gate/embed/react');
      const assets = (await import('node:module')).createRequire(import.meta.url).resolve('preview-gate/assets/sw.js');
      console.log(JSON.stringify({
        core: [typeof core.createGateway, typeof core.createMemoryStore, typeof core.labelPolicy],
        node: [typeof node.startGateway, typeof node.configFromEnv, typeof node.startHeapHeadroom],
        client: [typeof client.createPreviewGateClient, typeof client.PreviewGateApiError],
        embed: [typeof embed.configure, typeof embed.mount, typeof embed.definePreviewFrame],
        assets: assets.endsWith('dist/sw.js'),
      }));
    `;
    const r = await runTo(process.execPath, ['--input-type=module', '-e', script], pkg.project);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      core: ['function', 'function', 'function'],
      node: ['function', 'function', 'function'],
      client: ['function', 'function'],
      embed: ['function', 'function', 'function'],
      assets: true,
    });
  });

  it('a TypeScript app using the core, the client and <preview-frame> in JSX type-checks; wrong types do not', async () => {
    const types = join(pkg.project, 'node_modules', '@types');
    mkdirSync(types, { recursive: true });
    symlinkSync(join(root, 'node_modules', '@types', 'react'), join(types, 'react'), 'dir');
    writeFileSync(
      join(pkg.project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          jsx: 'react-jsx',
          types: [],
          noEmit: true,
          // The package's own .d.ts are emitted by tsc from type-checked sources; the negative
          // control below proves the hand-written JSX typings are live (not `any`).
          skipLibCheck: true,
        },
        files: ['app.tsx', 'bad.tsx'],
      }),
    );
    const good = `
import { createGateway, type Gateway, type GatewayConfig, type GatewayDeps } from 'preview-gate';
import { createPreviewGateClient, PreviewGateApiError, type Launch } from 'preview-gate/client';
import { configure, type PreviewEventDetail, type PreviewFrameElement } from 'preview-gate/embed';
import type {} from 'preview-gate/embed/react';

const config: GatewayConfig = { userJwtSecret: 'x'.repeat(32), previewDomain: 'preview.example.com', publicScheme: 'https' };
export function start(deps: GatewayDeps): Promise<Gateway> {
  return createGateway(config, deps);
}
const gate = createPreviewGateClient({ gatewayUrl: 'https://gate.example.com' });
export async function launch(session: string): Promise<string> {
  try {
    const l: Launch = await gate.launch({ session, sandboxId: 'sbx', port: 3000, path: '/' });
    return l.url;
  } catch (e) {
    if (e instanceof PreviewGateApiError && e.code === 'forbidden') return '';
    throw e;
  }
}
configure({ gatewayUrl: 'https://gate.example.com', getSession: async () => 'jwt' });
const el: PreviewFrameElement | null = document.querySelector('preview-frame');
el?.addEventListener('expired', (e) => {
  const d: PreviewEventDetail = e.detail;
  if (d.code === 'session_revoked') e.preventDefault();
});
export const view = <preview-frame sandbox="sbx" port={3000} ports={[3000, 8000]} path="/" status-interval={5000} onready={(e) => console.log(e.detail.credentialPath)} />;
`;
    writeFileSync(join(pkg.project, 'app.tsx'), good);
    // Negative control, in the same run: the typings are real, not `any`.
    writeFileSync(
      join(pkg.project, 'bad.tsx'),
      `import { createPreviewGateClient } from 'preview-gate/client';
import type {} from 'preview-gate/embed/react';
export const badAttr = <preview-frame sandbox={42} port={3000} />;
document.querySelector('preview-frame')?.addEventListener('ready', (e) => e.detail.nope);
export const badClient = createPreviewGateClient({ gatewayUrl: 'x' }).launch({ session: 's', sandboxId: 'sbx' });
`,
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const t0 = Date.now();
    const r = await runTo(process.execPath, [tsc, '-p', 'tsconfig.json'], pkg.project);
    console.log(`tsc: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const errors = r.stdout.split('\n').filter((l) => /error TS/.test(l));
    expect(errors.filter((l) => !l.startsWith('bad.tsx'))).toEqual([]); // the app type-checks
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/^bad\.tsx\(3,/); // sandbox={42}
    expect(errors[1]).toMatch(/^bad\.tsx\(4,.*'nope'/);
    expect(errors[2]).toMatch(/^bad\.tsx\(5,.*PreviewTarget/); // no port
  }, 180_000);

  // Preact and Solid type JSX from their own packages (`jsxImportSource`), not from React: each
  // framework's typings are checked in a project of its own, with a wrong attribute beside a right
  // one so the check proves the element is typed (not `any`) in that framework's JSX namespace.
  it.each([
    { framework: 'preact', events: `onready={(e) => console.log(e.detail.credentialPath)}`, bad: `onready={(e) => e.detail.nope}` },
    {
      framework: 'solid-js',
      events: `on:ready={(e) => console.log(e.detail.credentialPath)}`,
      bad: `on:ready={(e) => e.detail.nope}`,
    },
  ])(
    '<preview-frame> type-checks in $framework JSX; wrong attribute and event types do not',
    async ({ framework, events, bad }) => {
      const dir = join(pkg.project, `jsx-${framework}`);
      mkdirSync(dir, { recursive: true });
      // The framework as the integrator's app has it (a dev dependency of ours, linked, not installed
      // into the tarball's project: the package itself must not depend on it).
      mkdirSync(join(pkg.project, 'node_modules'), { recursive: true });
      try {
        symlinkSync(join(root, 'node_modules', framework), join(pkg.project, 'node_modules', framework), 'dir');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const sub = framework === 'preact' ? 'preact' : 'solid';
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            lib: ['ES2022', 'DOM', 'DOM.Iterable'],
            jsx: framework === 'preact' ? 'react-jsx' : 'preserve',
            jsxImportSource: framework,
            types: [],
            noEmit: true,
            skipLibCheck: true,
          },
          files: ['good.tsx', 'bad.tsx'],
        }),
      );
      writeFileSync(
        join(dir, 'good.tsx'),
        `import type {} from 'preview-gate/embed/${sub}';
export const view = <preview-frame sandbox="sbx" port={3000} path="/" ${events} />;
`,
      );
      writeFileSync(
        join(dir, 'bad.tsx'),
        `import type {} from 'preview-gate/embed/${sub}';
export const badAttr = <preview-frame sandbox={42} port={3000} />;
export const badEvent = <preview-frame sandbox="sbx" port={3000} ${bad} />;
`,
      );
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const r = await runTo(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
      const errors = r.stdout.split('\n').filter((l) => /error TS/.test(l));
      expect(errors.filter((l) => !l.startsWith('bad.tsx'))).toEqual([]); // the app type-checks
      expect(errors).toHaveLength(2);
      expect(errors[0]).toMatch(/^bad\.tsx\(2,/); // sandbox={42}
      expect(errors[1]).toMatch(/^bad\.tsx\(3,.*'nope'/);
    },
    180_000,
  );
});
