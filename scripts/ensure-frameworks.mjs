#!/usr/bin/env node
/**
 * Installs the real dev servers of the framework matrix (test/frameworks/) from the registries,
 * into a cache directory OUTSIDE the repository (the project's own node_modules is never touched):
 *   - Next.js (npm: next, react, react-dom) into `{cache}/next/node_modules`;
 *   - Streamlit and JupyterLab (PyPI) into a Python 3.11 virtual environment `{cache}/venv`.
 * `{cache}` is PREVIEW_GATE_FRAMEWORKS_DIR, or `~/.cache/preview-gate/frameworks`.
 *
 * Idempotent (an installed framework is not installed again) and never fails the caller: what
 * could not be installed is written with the reason to `{cache}/status.json`, and the matrix's
 * test files skip those frameworks saying why. Run by `npm test` (pretest) and by .ci/run.
 *
 * Versions: the ones below (the matrix was measured with them); override with
 * PREVIEW_GATE_NEXT_VERSION, PREVIEW_GATE_STREAMLIT_VERSION, PREVIEW_GATE_JUPYTERLAB_VERSION.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function frameworksDir() {
  return process.env.PREVIEW_GATE_FRAMEWORKS_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'preview-gate', 'frameworks');
}

const VERSIONS = {
  next: process.env.PREVIEW_GATE_NEXT_VERSION || '16.4.6',
  streamlit: process.env.PREVIEW_GATE_STREAMLIT_VERSION || '',
  jupyterlab: process.env.PREVIEW_GATE_JUPYTERLAB_VERSION || '',
};

/** Five minutes per install at most: a stalled registry must not stall the test run. */
const INSTALL_TIMEOUT_MS = 5 * 60_000;

function reasonOf(err) {
  const text = `${err?.stderr ?? ''}${err?.message ?? err}`;
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => l && !l.startsWith('WARNING'));
  return (lines.at(-1) ?? 'unknown error').slice(0, 300);
}

async function ensureNext(dir) {
  const root = join(dir, 'next');
  const pkg = join(root, 'node_modules', 'next', 'package.json');
  if (existsSync(pkg))
    return { ok: true, version: JSON.parse(readFileSync(pkg, 'utf8')).version, bin: join(root, 'node_modules', 'next', 'dist', 'bin', 'next') };
  mkdirSync(root, { recursive: true });
  if (!existsSync(join(root, 'package.json'))) writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'pg-frameworks-next', private: true }));
  await run(
    'npm',
    ['install', '--prefix', root, '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', `next@${VERSIONS.next}`, 'react@19', 'react-dom@19'],
    { timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 << 20 },
  );
  return { ok: true, version: JSON.parse(readFileSync(pkg, 'utf8')).version, bin: join(root, 'node_modules', 'next', 'dist', 'bin', 'next') };
}

async function pythonVersionOk(python) {
  try {
    const { stdout } = await run(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { timeout: 20_000 });
    return stdout.trim() === '3.11';
  } catch {
    return false;
  }
}

async function ensureVenv(dir) {
  const venv = join(dir, 'venv');
  const py = join(venv, 'bin', 'python');
  if (!existsSync(py)) {
    let chosen = null;
    for (const p of ['python3.11', 'python3']) if (!chosen && (await pythonVersionOk(p))) chosen = p;
    if (!chosen) throw new Error('no Python 3.11 found (tried python3.11 and python3)');
    await run(chosen, ['-m', 'venv', venv], { timeout: 120_000 });
  }
  return py;
}

async function ensurePip(py, name, version, module) {
  const probe = async () => {
    const { stdout } = await run(py, ['-c', `import importlib.metadata as m; print(m.version(${JSON.stringify(name)}))`], { timeout: 30_000 });
    return stdout.trim();
  };
  try {
    return { ok: true, version: await probe(), module };
  } catch {
    // not installed yet
  }
  // `--retries 0 --timeout 15`: an index this machine cannot reach fails at once (pip moves on to
  // the others its configuration names) instead of retrying every package for minutes.
  const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', '--retries', '0', '--timeout', '15'];
  await run(py, [...args, version ? `${name}==${version}` : name], {
    timeout: INSTALL_TIMEOUT_MS,
    maxBuffer: 16 << 20,
  });
  return { ok: true, version: await probe(), module };
}

export async function ensureFrameworks({ quiet = false } = {}) {
  const dir = frameworksDir();
  mkdirSync(dir, { recursive: true });
  const status = { dir };
  const [next, venv] = await Promise.allSettled([ensureNext(dir), ensureVenv(dir)]);
  status.next = next.status === 'fulfilled' ? next.value : { ok: false, reason: `npm install next failed: ${reasonOf(next.reason)}` };
  if (venv.status === 'fulfilled') {
    const py = venv.value;
    for (const [key, name, module] of [
      ['streamlit', 'streamlit', 'streamlit'],
      ['jupyterlab', 'jupyterlab', 'jupyterlab'],
    ]) {
      try {
        status[key] = { ...(await ensurePip(py, name, VERSIONS[key], module)), python: py };
      } catch (err) {
        status[key] = { ok: false, reason: `pip install ${name} failed: ${reasonOf(err)}` };
      }
    }
  } else {
    const reason = `Python venv: ${reasonOf(venv.reason)}`;
    status.streamlit = { ok: false, reason };
    status.jupyterlab = { ok: false, reason };
  }
  writeFileSync(join(dir, 'status.json'), JSON.stringify(status, null, 2));
  if (!quiet) {
    for (const key of ['next', 'streamlit', 'jupyterlab']) {
      const s = status[key];
      console.error(`ensure-frameworks: ${key} ${s.ok ? s.version : `unavailable (${s.reason}); its tests will skip`}`);
    }
  }
  return status;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await ensureFrameworks();
}
