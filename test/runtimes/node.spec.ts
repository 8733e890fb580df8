import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getRuntime } from '../../runtimes/index.js';
import { prepareFingerprint } from '../../src/engine/prepare.js';
import { PaasmakerError } from '../../src/shared/errors.js';
import { context, fakeBinary, sandbox, writeFile } from './context.js';

const node = getRuntime('node');
const WITH_DEPENDENCY = '{ "name": "shop", "dependencies": { "ms": "2.1.3" } }';

describe('node runtime', () => {
  let box: ReturnType<typeof sandbox>;
  let bin: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    box = sandbox();
    bin = join(box.root, 'bin');
    env = { PATH: bin, HOME: box.home };
  });
  afterEach(() => box.cleanup());

  const nvm = (version: string) => fakeBinary(join(box.home, '.nvm', 'versions', 'node', `v${version}`, 'bin', 'node'), `v${version}`);
  const fnm = (version: string) =>
    fakeBinary(join(box.home, '.local', 'share', 'fnm', 'node-versions', `v${version}`, 'installation', 'bin', 'node'), `v${version}`);
  const volta = (root: string, version: string) => fakeBinary(join(root, 'tools', 'image', 'node', version, 'bin', 'node'), `v${version}`);
  const plan = (version?: string) => node.plan(context({ project: box.project, pmHome: box.pmHome, env, runtime: 'node', version, command: 'node server.js' }));

  it('uses the node on PATH when it fits, with nothing prepended', async () => {
    const system = fakeBinary(join(bin, 'node'), 'v20.20.2');
    nvm('22.3.0');
    const result = await plan('>=20');
    expect(result.description).toBe(`node v20.20.2 (${system})`);
    expect(result.pathPrepend).toEqual([]);
    expect(result.command).toBe('node server.js');
    expect(result.env).toEqual({});
    expect(result.prepare).toEqual([]);
  });

  it('picks the highest fitting install from nvm, fnm and volta when PATH node is too old', async () => {
    fakeBinary(join(bin, 'node'), 'v20.20.2');
    nvm('22.3.0');
    nvm('21.0.0');
    const fnmNode = fnm('22.5.0');
    env.VOLTA_HOME = join(box.root, 'volta');
    volta(env.VOLTA_HOME, '22.1.0');
    const result = await plan('>=22');
    expect(result.description).toBe(`node v22.5.0 (${fnmNode})`);
    expect(result.pathPrepend).toEqual([join(fnmNode, '..')]);
  });

  it('honours NVM_DIR and FNM_DIR instead of the folders under HOME', async () => {
    env.NVM_DIR = join(box.root, 'custom-nvm');
    const custom = fakeBinary(join(env.NVM_DIR, 'versions', 'node', 'v18.19.0', 'bin', 'node'), 'v18.19.0');
    nvm('18.20.0'); // under ~/.nvm: ignored once NVM_DIR is set
    expect((await plan('18')).description).toBe(`node v18.19.0 (${custom})`);
    env.FNM_DIR = join(box.root, 'custom-fnm');
    const viaFnm = fakeBinary(join(env.FNM_DIR, 'node-versions', 'v16.20.2', 'installation', 'bin', 'node'), 'v16.20.2');
    expect((await plan('16')).pathPrepend).toEqual([join(viaFnm, '..')]);
  });

  it('reads .nvmrc when the manifest names no version (v-prefixed majors)', async () => {
    fakeBinary(join(bin, 'node'), 'v20.20.2');
    const old = nvm('18.19.0');
    writeFile(join(box.project, '.nvmrc'), 'v18\n');
    const result = await plan();
    expect(result.description).toBe(`node v18.19.0 (${old})`);
    expect(result.fingerprintFiles).toEqual([join(box.project, '.nvmrc')]);
  });

  it('treats a full version in .node-version as "that release or a later one of the same major"', async () => {
    const system = fakeBinary(join(bin, 'node'), 'v20.20.2');
    writeFile(join(box.project, '.node-version'), '20.11.1\n');
    expect((await plan()).description).toContain(system);
    writeFile(join(box.project, '.node-version'), '22.1.0\n');
    await expect(plan()).rejects.toMatchObject({ code: 'RUNTIME_VERSION' });
  });

  it('reads lts/* as any version and lts/<codename> as its major', async () => {
    const system = fakeBinary(join(bin, 'node'), 'v20.20.2');
    const hydrogen = nvm('18.19.0');
    writeFile(join(box.project, '.nvmrc'), 'lts/*\n');
    expect((await plan()).description).toContain(system);
    writeFile(join(box.project, '.nvmrc'), 'lts/hydrogen\n');
    expect((await plan()).description).toContain(hydrogen);
  });

  it('falls back to package.json engines.node, and the manifest beats every file', async () => {
    fakeBinary(join(bin, 'node'), 'v20.20.2');
    env.VOLTA_HOME = join(box.root, 'volta');
    const v21 = volta(env.VOLTA_HOME, '21.7.3');
    const v18 = nvm('18.19.0');
    writeFile(join(box.project, 'package.json'), JSON.stringify({ engines: { node: '>=21 <22' } }));
    writeFile(join(box.project, 'package-lock.json'), '{}');
    const fromEngines = await plan();
    expect(fromEngines.description).toBe(`node v21.7.3 (${v21})`);
    expect(fromEngines.fingerprintFiles).toEqual([join(box.project, 'package.json'), join(box.project, 'package-lock.json')]);
    writeFile(join(box.project, '.nvmrc'), '18');
    expect((await plan()).description).toContain(v18);
    expect((await plan('^21.1')).description).toContain(v21);
  });

  it('explains a version nobody has, with the file position and an install command', async () => {
    const system = fakeBinary(join(bin, 'node'), 'v20.20.2');
    nvm('18.19.0');
    const error = await plan('>=22').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PaasmakerError);
    expect(error).toMatchObject({ code: 'RUNTIME_VERSION' });
    expect((error as PaasmakerError).message).toBe(
      `instance "web" needs node >=22 (paasmaker.yml:4:5), but the newest node found is v20.20.2 (${system})`,
    );
    expect((error as PaasmakerError).hint).toContain('`nvm install 22`');
  });

  it('suggests the managers that are present, or nodejs.org when there are none', async () => {
    fakeBinary(join(bin, 'node'), 'v20.20.2');
    const bare = (await plan('>=23').catch((caught: PaasmakerError) => caught)) as PaasmakerError;
    expect(bare.hint).toContain('https://nodejs.org');
    fnm('18.0.0');
    env.VOLTA_HOME = join(box.root, 'volta');
    volta(env.VOLTA_HOME, '16.0.0');
    const hint = ((await plan('>=23').catch((caught: PaasmakerError) => caught)) as PaasmakerError).hint!;
    expect(hint).toContain('`fnm install 23`');
    expect(hint).toContain('`volta install node@23`');
    expect(hint).not.toContain('nvm');
  });

  it('says what to install when there is no node at all', async () => {
    await expect(plan()).rejects.toMatchObject({ code: 'RUNTIME_MISSING', message: expect.stringContaining('needs node') });
    const error = (await plan().catch((caught: PaasmakerError) => caught)) as PaasmakerError;
    expect(error.hint).toContain('nodejs.org');
  });

  it('rejects a manifest version that is not a range, naming where it was written', async () => {
    fakeBinary(join(bin, 'node'), 'v20.20.2');
    await expect(plan('twenty')).rejects.toMatchObject({ code: 'RUNTIME_VERSION', message: expect.stringContaining('paasmaker.yml:4:5') });
  });

  it('asks each binary for its version once per process', async () => {
    const system = fakeBinary(join(bin, 'node'), 'v20.20.2');
    await plan();
    await plan('20');
    await node.versions(env, box.pmHome);
    expect(readFileSync(`${system}.calls`, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('lists every install once: an nvm node on PATH counts as the PATH one', async () => {
    const active = nvm('22.3.0');
    const other = nvm('18.19.0');
    const versions = await node.versions({ ...env, PATH: join(active, '..') }, box.pmHome);
    expect(versions).toEqual([
      { version: '22.3.0', binDir: join(active, '..'), source: 'PATH', binary: active },
      { version: '18.19.0', binDir: join(other, '..'), source: 'nvm', binary: other },
    ]);
    // Managed installs are known by their folder names: listing them runs nothing.
    expect(() => readFileSync(`${other}.calls`)).toThrow();
  });

  it('finds the versions Paasmaker installed under PAASMAKER_HOME/runtimes/node, puts the chosen one first on PATH, and says which range it lacks otherwise', async () => {
    fakeBinary(join(bin, 'node'), 'v20.20.2');
    await expect(plan('18')).rejects.toMatchObject({ code: 'RUNTIME_VERSION', runtime: 'node', range: '18', message: expect.stringContaining('needs node 18') });
    const own = fakeBinary(join(box.pmHome, 'runtimes', 'node', '18.20.8', 'bin', 'node'), 'v18.20.8');
    // A half-written install (a temporary folder beside the real ones) is never a candidate.
    fakeBinary(join(box.pmHome, 'runtimes', 'node', '.18.20.9.tmp-1-abc', 'bin', 'node'), 'v18.20.9');
    const result = await plan('18');
    expect(result.description).toBe(`node v18.20.8 (${own})`);
    expect(result.pathPrepend).toEqual([join(own, '..')]);
    expect((await node.versions(env, box.pmHome)).map((found) => `${found.version} ${found.source}`)).toEqual(['20.20.2 PATH', '18.20.8 paasmaker']);
  });

  it('knows the version of the node running Paasmaker without asking it', async () => {
    env.PATH = join(process.execPath, '..');
    const result = await plan(`=${process.versions.node}`);
    expect(result.description).toBe(`node v${process.versions.node} (${join(env.PATH, 'node')})`);
  });

  describe("dependencies, installed by the lockfile's tool", () => {
    beforeEach(() => {
      fakeBinary(join(bin, 'node'), 'v20.20.2');
      fakeBinary(join(bin, 'npm'), 'installed');
    });

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
});
