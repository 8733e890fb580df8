import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getRuntime } from '../../runtimes/index.js';
import { parseManifest } from '../../src/manifest/index.js';
import { PaasmakerError } from '../../src/shared/errors.js';
import { shellQuote } from '../../src/shared/shell.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-rt-'));
  dirs.push(dir);
  return dir;
}

/** A fake interpreter that prints a version, at dir/bin/name. */
function fakeBinary(dir: string, name: string, output: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\necho ${shellQuote(output)}\n`);
  chmodSync(file, 0o755);
  return dir;
}

function context(project: string, manifestText: string, env: NodeJS.ProcessEnv) {
  writeFileSync(join(project, 'paasmaker.yml'), manifestText);
  const manifest = parseManifest(manifestText, join(project, 'paasmaker.yml'));
  return { manifest, instance: manifest.instances[0]!, home: join(project, '.home'), env };
}

describe('node runtime', () => {
  it('uses the node on PATH when it fits the manifest range', async () => {
    const root = temp();
    const project = join(root, 'app');
    mkdirSync(project);
    const bin = fakeBinary(join(root, 'sys'), 'node', 'v20.11.1');
    const plan = await getRuntime('node').plan(context(project, 'application: {name: a}\ninstances:\n  web:\n    runtime: {name: node, version: ">=20"}\n    command: node s.js\n', { PATH: bin, HOME: root }));
    expect(plan.description).toBe(`node v20.11.1 (${bin}/node)`);
    expect(plan.pathPrepend).toEqual([]);
    expect(plan.command).toBe('node s.js');
  });

  it('finds a fitting version in nvm, fnm or volta, from .nvmrc or engines', async () => {
    const root = temp();
    const project = join(root, 'app');
    mkdirSync(project);
    const sys = fakeBinary(join(root, 'sys'), 'node', 'v20.11.1');
    const nvm = fakeBinary(join(root, '.nvm', 'versions', 'node', 'v22.3.0', 'bin'), 'node', 'v22.3.0');
    const fnm = fakeBinary(join(root, '.local', 'share', 'fnm', 'node-versions', 'v18.20.0', 'installation', 'bin'), 'node', 'v18.20.0');
    const volta = fakeBinary(join(root, '.volta', 'tools', 'image', 'node', '21.7.0', 'bin'), 'node', 'v21.7.0');
    const env = { PATH: sys, HOME: root };
    const text = 'application: {name: a}\ninstances:\n  web:\n    command: node s.js\n';

    writeFileSync(join(project, '.nvmrc'), 'v22\n');
    let plan = await getRuntime('node').plan(context(project, text, env));
    expect(plan.pathPrepend).toEqual([nvm]);

    rmSync(join(project, '.nvmrc'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ engines: { node: '^18' } }));
    plan = await getRuntime('node').plan(context(project, text, env));
    expect(plan.pathPrepend).toEqual([fnm]);
    expect(plan.fingerprintFiles).toEqual([join(project, 'package.json')]);

    writeFileSync(join(project, 'package.json'), JSON.stringify({ engines: { node: '21' } }));
    plan = await getRuntime('node').plan(context(project, text, env));
    expect(plan.pathPrepend).toEqual([volta]);
  });

  it('says what to install when no version fits, pointing at the manifest line', async () => {
    const root = temp();
    const project = join(root, 'app');
    mkdirSync(project);
    const sys = fakeBinary(join(root, 'sys'), 'node', 'v20.11.1');
    const text = 'application: {name: a}\ninstances:\n  web:\n    runtime: {name: node, version: ">=24"}\n    command: node s.js\n';
    const error = await getRuntime('node').plan(context(project, text, { PATH: sys, HOME: root })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaasmakerError);
    expect((error as PaasmakerError).code).toBe('RUNTIME_VERSION');
    expect((error as PaasmakerError).message).toBe(`instance "web" needs node >=24 (paasmaker.yml:3:3), but the newest node found is v20.11.1 (${sys}/node)`);
    expect((error as PaasmakerError).hint).toContain('nvm install 24');
  });

  it('names what to install when there is no node at all', async () => {
    const root = temp();
    const project = join(root, 'app');
    mkdirSync(project);
    const error = await getRuntime('node').plan(context(project, 'application: {name: a}\ninstances:\n  web: {command: node s.js}\n', { PATH: join(root, 'empty'), HOME: root })).catch((e: unknown) => e);
    expect((error as PaasmakerError).code).toBe('RUNTIME_MISSING');
    expect((error as PaasmakerError).hint).toMatch(/install Node\.js/);
  });
});

describe('python runtime', () => {
  it('runs unbuffered, and without requirements.txt needs no venv', async () => {
    const project = temp();
    const plan = await getRuntime('python').plan(context(project, 'application: {name: a}\ninstances:\n  web: {command: python3 app.py}\n', process.env));
    expect(plan.env).toEqual({ PYTHONUNBUFFERED: '1' });
    expect(plan.prepare).toEqual([]);
  });

  // python3 -m venv installs pip into it: 13 s on a machine doing other work, more when it is saturated.
  it('creates a virtual environment in PAASMAKER_HOME when there is a requirements.txt', { timeout: 90_000 }, async () => {
    const project = temp();
    writeFileSync(join(project, 'requirements.txt'), '# nothing to install yet\n');
    const ctx = context(project, 'application: {name: py-app}\ninstances:\n  web: {command: python3 app.py}\n', process.env);
    const plan = await getRuntime('python').plan(ctx);
    const venv = plan.env.VIRTUAL_ENV!;
    expect(venv.startsWith(join(ctx.home, 'venvs', 'py-app-'))).toBe(true);
    expect(plan.pathPrepend[0]).toBe(join(venv, 'bin'));
    expect(plan.prepare).toHaveLength(1); // no requirement lines: no pip install
    expect(plan.fingerprintFiles).toEqual([join(project, 'requirements.txt')]);
    for (const step of plan.prepare) execFileSync('/bin/sh', ['-c', step], { cwd: project });
    expect(existsSync(join(venv, 'bin', 'python'))).toBe(true);
  });
});

describe('static and shell runtimes', () => {
  it('static serves an existing folder, and says so when it is missing', async () => {
    const project = temp();
    mkdirSync(join(project, 'public'));
    const plan = await getRuntime('static').plan(context(project, 'application: {name: a}\ninstances:\n  web: {runtime: static, root: public}\n', process.env));
    expect(plan.serve).toEqual({ root: join(project, 'public') });
    expect(plan.command).toBeUndefined();
    const error = await getRuntime('static').plan(context(project, 'application: {name: a}\ninstances:\n  web: {runtime: static, root: site}\n', process.env)).catch((e: unknown) => e);
    expect((error as PaasmakerError).code).toBe('RUNTIME_MISSING');
  });

  it('an unknown runtime lists the known ones', () => {
    expect(() => getRuntime('perl')).toThrow(PaasmakerError);
    try {
      getRuntime('perl');
    } catch (error) {
      expect((error as PaasmakerError).hint).toBe('use one of: node, python, php, ruby, static, shell');
    }
  });
});

describe('shellQuote', () => {
  it('survives hostile strings through /bin/sh', () => {
    for (const value of [`it's`, '$(touch /tmp/pm-pwned)', 'a b\nc', '`id`', '"; rm -rf /; "', '', '-n']) {
      const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(value)}`], { encoding: 'utf8' });
      expect(out).toBe(value);
    }
    expect(existsSync('/tmp/pm-pwned')).toBe(false);
  });
});
