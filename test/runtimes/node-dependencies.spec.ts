import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getRuntime } from '../../runtimes/index.js';
import { PaasmakerError } from '../../src/shared/errors.js';
import { prepareFingerprint } from '../../src/engine/prepare.js';
import { context, fakeBinary, sandbox, writeFile } from './context.js';

const node = getRuntime('node');
const WITH_DEPENDENCY = '{ "name": "shop", "dependencies": { "ms": "2.1.3" } }';

describe('node runtime: dependencies are installed by the lockfile\'s tool', () => {
  let box: ReturnType<typeof sandbox>;
  let bin: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    box = sandbox();
    bin = join(box.root, 'bin');
    fakeBinary(join(bin, 'node'), 'v20.20.2');
    fakeBinary(join(bin, 'npm'), 'installed');
    env = { PATH: bin, HOME: box.home };
  });
  afterEach(() => box.cleanup());

  const project = (files: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) writeFile(join(box.project, name), text);
  };
  const ctx = () => context({ project: box.project, pmHome: box.pmHome, env, runtime: 'node', command: 'node server.js' });
  const installCommand = async () => {
    const [step] = (await node.plan(ctx())).prepare;
    return step?.split('|| ')[1];
  };

  it('npm ci with package-lock.json, pnpm and yarn by theirs, npm install without a lockfile (writing none)', async () => {
    project({ 'package.json': WITH_DEPENDENCY });
    expect(await installCommand()).toBe('npm install --no-save');
    project({ 'yarn.lock': '# yarn lockfile v1\n' });
    fakeBinary(join(bin, 'yarn'), '1.22.22');
    expect(await installCommand()).toBe('yarn install --frozen-lockfile');
    project({ 'yarn.lock': '__metadata:\n  version: 8\n' });
    expect(await installCommand()).toBe('yarn install --immutable');
    project({ 'pnpm-lock.yaml': "lockfileVersion: '9.0'\n" });
    fakeBinary(join(bin, 'pnpm'), '9.0.0');
    expect(await installCommand()).toBe('pnpm install --frozen-lockfile');
    project({ 'package-lock.json': '{}' });
    expect(await installCommand()).toBe('npm ci');
  });

  it('nothing to install without dependencies, nor when the manifest gives its own prepare', async () => {
    project({ 'package.json': '{ "name": "shop", "dependencies": {} }', 'package-lock.json': '{}' });
    expect((await node.plan(ctx())).prepare).toEqual([]);
    project({ 'package.json': WITH_DEPENDENCY });
    const own = ctx();
    own.instance.prepare.commands = ['npm install --omit=dev'];
    const plan = await node.plan(own);
    expect(plan.prepare).toEqual([]);
    expect(plan.preparedMarkers).toEqual([]);
  });

  it('a pnpm-lock.yaml without pnpm on PATH is refused before anything starts, naming corepack', async () => {
    project({ 'package.json': WITH_DEPENDENCY, 'pnpm-lock.yaml': "lockfileVersion: '9.0'\n" });
    const error = await node.plan(ctx()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PaasmakerError);
    expect((error as PaasmakerError).code).toBe('RUNTIME_MISSING');
    expect((error as PaasmakerError).message).toBe('pnpm-lock.yaml asks for pnpm to install the dependencies of instance "web", but it is not on PATH');
    expect((error as PaasmakerError).hint).toContain('corepack enable');
  });

  it('the step installs when node_modules is absent or older than the lockfile, and skips itself when it is current', async () => {
    project({ 'package.json': WITH_DEPENDENCY, 'package-lock.json': '{}' });
    const [step] = (await node.plan(ctx())).prepare;
    const calls = join(bin, 'npm.calls');
    const run = () => execFileSync('/bin/sh', ['-c', step!], { cwd: box.project, env: { PATH: [bin, dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter) } });
    const installs = () => (existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean).length : 0);
    run();
    expect(installs()).toBe(1);
    const marker = writeFile(join(box.project, 'node_modules', '.package-lock.json'), '{}');
    run();
    expect(installs()).toBe(1);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(box.project, 'package-lock.json'), later, later);
    run();
    expect(installs()).toBe(2);
    utimesSync(marker, later, later);
    run();
    expect(installs()).toBe(2);
  });

  it('a deleted node_modules changes the prepare fingerprint, though no file it reads changed', async () => {
    project({ 'package.json': WITH_DEPENDENCY, 'package-lock.json': '{}' });
    const context = ctx();
    const plan = await node.plan(context);
    const missing = await prepareFingerprint(box.project, context.instance, plan);
    writeFile(join(box.project, 'node_modules', '.package-lock.json'), '{}');
    const installed = await prepareFingerprint(box.project, context.instance, plan);
    expect(installed).not.toBe(missing);
    expect(await prepareFingerprint(box.project, context.instance, plan)).toBe(installed);
  });

  it('crash hints: a declared but missing package, an undeclared one (ES modules too), and nothing for the app\'s own files', () => {
    project({ 'package.json': WITH_DEPENDENCY, 'package-lock.json': '{}' });
    const hint = (line: string) => node.crashHint!(['node:internal/modules/cjs/loader:1228', line, 'Require stack:'], box.project);
    expect(hint("Error: Cannot find module 'ms'")).toBe('"ms" is in package.json but not installed: run paasmaker up --prepare (it runs `npm ci`), or run it yourself');
    expect(hint("Error [ERR_MODULE_NOT_FOUND]: Cannot find package '@scope/tool' imported from /app/server.mjs")).toBe(
      '"@scope/tool" is not a dependency in package.json: add it with `npm install @scope/tool`; Paasmaker installs dependencies by itself from then on',
    );
    expect(hint("Error: Cannot find module './routes'")).toBeUndefined();
    expect(hint('TypeError: x is not a function')).toBeUndefined();
  });
});
