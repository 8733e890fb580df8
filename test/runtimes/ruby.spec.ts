import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getRuntime } from '../../runtimes/index.js';
import { gemsDirectory } from '../../runtimes/ruby/index.js';
import type { PaasmakerError } from '../../src/shared/errors.js';
import { onPath } from '../../runtimes/versions.js';
import { context, fakeBinary, sandbox, writeFile } from './context.js';

const ruby = getRuntime('ruby');
const RACKUP = 'rackup -p $PORT -o 127.0.0.1';

describe('ruby runtime', () => {
  let box: ReturnType<typeof sandbox>;
  let bin: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    box = sandbox();
    bin = join(box.root, 'bin');
    env = { PATH: bin, HOME: box.home };
  });
  afterEach(() => box.cleanup());

  const plan = (options: { version?: string; command?: string } = {}, planEnv = env) =>
    ruby.plan(context({ project: box.project, pmHome: box.pmHome, env: planEnv, runtime: 'ruby', version: options.version, command: options.command }));
  const failure = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('expected an error'), (error: unknown) => error as PaasmakerError);

  it('a config.ru and no Gemfile: rackup on $PORT, nothing to prepare', async () => {
    const system = fakeBinary(join(bin, 'ruby'), 'ruby 3.1.2p20 (2022-04-12 revision 4491bb740a) [x86_64-linux-gnu]');
    writeFile(join(box.project, 'config.ru'), 'run ->(env) { [200, {}, ["hi"]] }\n');
    expect(await plan()).toEqual({ description: `ruby 3.1.2 (${system})`, pathPrepend: [], env: {}, prepare: [], fingerprintFiles: [], command: RACKUP });
  });

  it('a Gemfile: bundle install with GEM_HOME under PAASMAKER_HOME, and bundle exec', async () => {
    fakeBinary(join(bin, 'ruby'), 'ruby 3.1.2p20');
    fakeBinary(join(bin, 'bundle'), 'Bundler version 2.3.15');
    writeFile(join(box.project, 'config.ru'), '');
    const gemfile = writeFile(join(box.project, 'Gemfile'), 'gem "rack"\n');
    const version = writeFile(join(box.project, '.ruby-version'), '3.1.2\n');
    const result = await plan();
    const outside = gemsDirectory(box.pmHome, 'myapp', box.project);
    const gems = join(outside, '3.1');
    expect(outside).toMatch(new RegExp(`^${box.pmHome}/gems/myapp-[0-9a-f]{8}$`));
    expect(result.command).toBe(`bundle exec ${RACKUP}`);
    expect(result.env).toMatchObject({ GEM_HOME: gems, BUNDLE_GEMFILE: gemfile });
    expect(result.env.BUNDLE_APP_CONFIG!.startsWith(gems)).toBe(true);
    expect(result.pathPrepend).toEqual([join(gems, 'bin')]);
    expect(result.outside).toEqual([outside]);
    expect(result.fingerprintFiles).toEqual([gemfile, version]);
    expect(result.prepare).toEqual([`mkdir -p '${gems}' && { bundle check || bundle install --local || bundle install; }`]);
  });

  it('no command and no config.ru: the manifest needs a command', async () => {
    fakeBinary(join(bin, 'ruby'), 'ruby 3.1.2p20');
    const error = await failure(plan());
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toContain('config.ru');
    expect((await plan({ command: 'ruby worker.rb' })).command).toBe('ruby worker.rb');
  });

  it('.ruby-version chooses among rbenv versions (same minor), and the chosen ruby comes first on PATH', async () => {
    fakeBinary(join(bin, 'ruby'), 'ruby 3.1.2p20');
    const rbenv = fakeBinary(join(box.home, '.rbenv', 'versions', '3.2.2', 'bin', 'ruby'), 'ruby 3.2.2');
    fakeBinary(join(box.home, '.rbenv', 'versions', '3.3.0', 'bin', 'ruby'), 'ruby 3.3.0');
    writeFile(join(box.project, '.ruby-version'), 'ruby-3.2.0\n');
    const result = await plan({ command: 'ruby app.rb' });
    expect(result.description).toBe(`ruby 3.2.2 (${rbenv})`);
    expect(result.pathPrepend).toEqual([join(box.home, '.rbenv', 'versions', '3.2.2', 'bin')]);
  });

  it('a version nobody has: RUNTIME_VERSION with how to install it', async () => {
    fakeBinary(join(bin, 'ruby'), 'ruby 3.1.2p20');
    const error = await failure(plan({ version: '3.4', command: 'ruby app.rb' }));
    expect(error.code).toBe('RUNTIME_VERSION');
    expect(error.message).toContain('needs ruby 3.4 (paasmaker.yml:4:5), but the newest ruby found is 3.1.2');
    expect(error.hint).toMatch(/ruby/i);
    fakeBinary(join(box.home, '.rbenv', 'versions', '3.1.2', 'bin', 'ruby'), 'ruby 3.1.2');
    expect((await failure(plan({ version: '3.4', command: 'ruby app.rb' }))).hint).toContain('rbenv install 3.4');
  });

  it('no ruby, or a Gemfile without bundler: RUNTIME_MISSING naming what to install', async () => {
    expect((await failure(plan({ command: 'ruby app.rb' }))).code).toBe('RUNTIME_MISSING');
    fakeBinary(join(bin, 'ruby'), 'ruby 3.1.2p20');
    writeFile(join(box.project, 'Gemfile'), 'gem "rack"\n');
    const error = await failure(plan({ command: 'ruby app.rb' }));
    expect(error.code).toBe('RUNTIME_MISSING');
    expect(error.hint).toContain('bundler');
  });

  it('crash hints: no web server for rackup, a gem not installed', () => {
    expect(ruby.crashHint!(["rack/handler.rb:45:in `pick': Couldn't find handler for: puma, thin, falcon, webrick. (LoadError)"], box.project)).toContain('gem "webrick"');
    expect(ruby.crashHint!(["Could not find gem 'sinatra' in locally installed gems. (Bundler::GemNotFound)"], box.project)).toContain('Gemfile');
    expect(ruby.crashHint!(['all good'], box.project)).toBeUndefined();
  });

  // The real thing, with this machine's ruby and bundler: a Gemfile of system gems installs offline, and nothing lands in the project but its lockfile.
  it.skipIf(!onPath('bundle', process.env) || !onPath('ruby', process.env))('bundles for real, outside the project, and bundle exec finds the gems', async () => {
    writeFile(join(box.project, 'Gemfile'), 'source "https://rubygems.org"\ngem "rack"\n');
    const realEnv = { ...process.env, HOME: box.home };
    const result = await plan({ command: 'ruby app.rb' }, realEnv);
    const runEnv = { ...realEnv, ...result.env, PATH: [...result.pathPrepend, realEnv.PATH].join(':') };
    for (const step of result.prepare) await execa('/bin/sh', ['-c', step], { cwd: box.project, env: runEnv });
    const loaded = await execa('bundle', ['exec', 'ruby', '-e', 'require "rack"; print Rack.release'], { cwd: box.project, env: runEnv });
    expect(loaded.stdout).toMatch(/^\d+\.\d+/);
    expect(existsSync(join(box.project, '.bundle'))).toBe(false);
    expect(existsSync(join(box.project, 'vendor'))).toBe(false);
    expect(existsSync(join(box.home, '.bundle'))).toBe(false);
    expect(existsSync(result.env.GEM_HOME!)).toBe(true);
  }, 60_000);
});
