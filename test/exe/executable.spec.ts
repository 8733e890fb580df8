import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, examples, repoRoot, until } from '../helpers/cli.js';
import { haveTmux, openTerminal } from '../helpers/tmux.js';

const shellQuote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

// The single executable (npm run build:exe), copied alone into an empty
// folder and run with a PATH that has no node and no npm: it must still be
// the whole platform. PAASMAKER_EXE names one already built (CI may build it
// once); otherwise it is built here, where Node can build it.
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const skip =
  process.platform !== 'linux' && process.platform !== 'darwin'
    ? `no single executable on ${process.platform}`
    : major! < 20 || (major === 20 && minor! < 12)
      ? `node ${process.versions.node} cannot build single executables with assets (20.12 or later can)`
      : !process.env.PAASMAKER_EXE && !existsSync(join(repoRoot, 'node_modules', 'postject', 'dist', 'cli.js'))
        ? 'postject is not installed (npm ci installs it)'
        : undefined;
if (skip) console.warn(`test/exe: skipped: ${skip}`);

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const HIDDEN = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack', 'yarn', 'pnpm']);

let work = '';
let exe = '';
let home = '';
let pathDir = '';
const started: ChildProcess[] = [];

/** A folder of links to every program of the system's PATH, except Node.js and its package managers. */
function pathWithoutNode(into: string): string {
  mkdirSync(into);
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const link = join(into, name);
      if (HIDDEN.has(name) || existsSync(link)) continue;
      symlinkSync(join(dir, name), link);
    }
  }
  return into;
}

/** A copy of examples/static-site in the test's folder. */
function staticSite(): string {
  const site = join(work, 'static-site');
  if (!existsSync(site)) cpSync(join(examples, 'static-site'), site, { recursive: true });
  return site;
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Only what a shell would have: nothing of this test's node (no NODE_OPTIONS, no npm_ variables).
  return { PATH: pathDir, HOME: process.env.HOME ?? work, PAASMAKER_HOME: home, NO_COLOR: '1', PAASMAKER_PROXY_PORT: '0', PAASMAKER_DNS_PORT: '0', PAASMAKER_TLS_PORT: '0', ...extra };
}

function run(file: string, args: string[], cwd: string) {
  return execa(file, args, { cwd, env: env(), extendEnv: false, reject: false, timeout: 60_000 });
}

function get(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(skip !== undefined)(`the single executable${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    let built = process.env.PAASMAKER_EXE;
    if (!built) {
      const build = await execa(process.execPath, [join(repoRoot, 'scripts', 'build-exe.mjs')], { cwd: repoRoot, reject: false, timeout: 280_000 });
      expect(build.exitCode, `${build.stdout}\n${build.stderr}`).toBe(0);
      built = join(repoRoot, 'dist', 'exe', `paasmaker-${process.platform}-${process.arch}`);
    }
    work = realpathSync(mkdtempSync(join(tmpdir(), 'pm-exe-')));
    mkdirSync(join(work, 'alone'));
    exe = join(work, 'alone', 'paasmaker');
    copyFileSync(built, exe);
    home = join(work, 'home');
    pathDir = pathWithoutNode(join(work, 'path'));
  }, 300_000);

  afterAll(async () => {
    if (!work) return;
    await run(exe, ['daemon', 'stop'], work);
    for (const child of started) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('runs where no node is on PATH: --version, its files unpacked once under PAASMAKER_HOME', async () => {
    expect(readdirSync(join(work, 'alone'))).toEqual(['paasmaker']);
    expect((await execa('sh', ['-c', 'command -v node || command -v npm'], { env: env(), extendEnv: false, reject: false })).exitCode).not.toBe(0);
    const result = await run(exe, ['--version'], work);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(version);
    const cached = readdirSync(join(home, 'cache'));
    expect(cached).toEqual([expect.stringMatching(new RegExp(`^exe-${version.replaceAll('.', '\\.')}-[0-9a-f]{12}$`))]);
    expect(statSync(join(home, 'cache', cached[0]!)).mode & 0o777).toBe(0o700);
    // A second run uses the same copy.
    expect((await run(exe, ['--version'], work)).stdout).toBe(version);
    expect(readdirSync(join(home, 'cache'))).toEqual(cached);
  });

  it('loads a plugin folder listed in config.yml; plugins add, which needs npm, says it is missing', async () => {
    const plugin = join(work, 'memcached-plugin');
    cpSync(join(examples, 'plugins', 'memcached'), plugin, { recursive: true });
    writeFileSync(join(home, 'config.yml'), `plugins:\n  - ${plugin}\n`);
    const listed = await run(exe, ['plugins', '--json'], work);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ name: 'paasmaker-plugin-memcached', state: 'loaded' }));
    const add = await run(exe, ['plugins', 'add', 'paasmaker-plugin-memcached'], work);
    expect(add.exitCode).not.toBe(0);
    expect(add.stderr).toMatch(/npm is not installed/);
    rmSync(join(home, 'config.yml'));
  });

  it('up serves a static example through the router, and stops on Ctrl-C', async () => {
    const child = spawn(exe, ['up'], { cwd: staticSite(), env: env(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    started.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const port = await until(() => {
      if (child.exitCode !== null) throw new Error(`up exited (${child.exitCode}):\n${output}`);
      return Number(/http:\/\/static-site\.localhost:(\d+)\//.exec(output)?.[1]);
    }, 30_000, `the router's address in:\n${output}`);
    const page = await get(port, 'static-site.localhost');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Served by Paasmaker');
    expect(output).not.toMatch(/warning|error/i);
    process.kill(child.pid!, 'SIGINT');
    expect(await exited).toBe(130);
  });

  it.skipIf(!haveTmux)('up in a terminal shows the terminal UI; q stops everything and exits 0', async () => {
    const vars = Object.entries(env()).map(([key, value]) => `${key}=${shellQuote(value!)}`).join(' ');
    const terminal = openTerminal(work, 'pm-exe-tui', `cd ${shellQuote(staticSite())} && env -i ${vars} TERM=xterm-256color ${shellQuote(exe)} up; echo EXIT=$?; sleep 60`);
    try {
      await until(() => /web\.0\s+● running/.test(terminal.screen()), 30_000, 'the web row running');
      expect(terminal.screen()).toContain('q quit');
      terminal.keys('q');
      await until(() => terminal.screen().includes('EXIT=0'), 15_000, 'paasmaker to exit 0');
    } finally {
      terminal.close();
    }
  });

  it('through a symlink from another folder: daemon start and the git hook re-run the executable itself; up -d of a large manifest; the console; daemon stop', async () => {
    mkdirSync(join(work, 'links'));
    const link = join(work, 'links', 'paasmaker');
    symlinkSync(exe, link);
    const other = join(work, 'elsewhere');
    mkdirSync(other);
    const start = await run(link, ['daemon', 'start'], other);
    expect(start.exitCode, start.stderr).toBe(0);
    const pid = Number(/daemon pid (\d+)/.exec(start.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    // The daemon is the executable again (no node, no script), running `daemon run`.
    if (existsSync('/proc/self')) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 3)).toEqual([exe, 'daemon', 'run']);
    // A manifest past 8 KB is read on a worker thread: its script is one of the unpacked files.
    const big = join(work, 'big-site');
    cpSync(join(examples, 'static-site'), big, { recursive: true });
    const manifest = readFileSync(join(big, 'paasmaker.yml'), 'utf8').replace('name: static-site', 'name: big-site');
    writeFileSync(join(big, 'paasmaker.yml'), manifest + '# a long comment, to make the manifest large\n'.repeat(250));
    const deployed = await run(link, ['up', '-d', big], other);
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    const port = Number(/http:\/\/big-site\.localhost:(\d+)\//.exec(deployed.stdout)?.[1]);
    expect((await get(port, 'big-site.localhost')).body).toContain('Served by Paasmaker');
    // The web console's files come from the executable too.
    const page = await get(port, 'paasmaker.localhost');
    expect(page.status).toBe(200);
    const script = /<script type="module" src="(\/main-[\w-]+\.js)"/.exec(page.body)?.[1];
    expect(script, page.body).toBeDefined();
    expect((await get(port, 'paasmaker.localhost', script)).status).toBe(200);
    // A push deploys through the hook git init wrote: it runs the executable again, by its real path.
    const remote = await run(link, ['git', 'init', 'pushed-site'], other);
    expect(remote.exitCode, remote.stderr).toBe(0);
    const bare = /^git remote add paasmaker (\S+)$/m.exec(remote.stdout)![1]!;
    expect(readFileSync(join(bare, 'hooks', 'pre-receive'), 'utf8')).toContain(`exec '${exe}' 'git' 'receive' 'pushed-site'`);
    const source = join(work, 'pushed');
    cpSync(join(examples, 'static-site'), source, { recursive: true });
    writeFileSync(join(source, 'paasmaker.yml'), readFileSync(join(source, 'paasmaker.yml'), 'utf8').replace('name: static-site', 'name: pushed-site'));
    const git = (args: string[]) => execa('git', args, { cwd: source, env: env({ GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 'test@example.com' }), extendEnv: false, reject: false });
    await git(['init', '-q', '-b', 'main']);
    await git(['add', '-A']);
    await git(['commit', '-qm', 'site']);
    const push = await git(['push', bare, 'main']);
    expect(push.exitCode, push.stderr).toBe(0);
    expect(push.stderr).toMatch(/pushed-site v1 is current/);
    expect((await get(port, 'pushed-site.localhost')).body).toContain('Served by Paasmaker');
    const stop = await run(link, ['daemon', 'stop'], other);
    expect(stop.exitCode, stop.stderr).toBe(0);
    await until(() => !alive(pid), 15_000, 'the daemon to exit');
    expect((await run(link, ['daemon', 'status'], other)).stdout).toMatch(/not running/);
  });
});
