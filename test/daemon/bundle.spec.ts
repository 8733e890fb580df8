import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a build script, plain JavaScript
import { bundlePlatform } from '../../scripts/bundle.mjs';
import { alive, cliEnv, getByHost, httpsGet, repoRoot, tempHome, until } from '../helpers/cli.js';
import { freePort } from '../helpers/processes.js';

// Every command runs from the bundle (dist/daemon, npm run build) when it is there and not older
// than dist/src: the daemon `daemon start` spawns, a foreground `up`, a `ps`. Here in a copy of the
// package whose dist/src daemon, `up` and `ps` cannot run (its runDaemon, its `up`, its `ps` and its
// TLS signing worker throw): the daemon that serves must be the bundle's, with its workers, the web
// console and the SQLite state; `up` and `ps` too; and a bundle older than dist/src is not run.

let tree = '';
const homes: Array<{ home: string; cleanup: () => void }> = [];

beforeAll(async () => {
  tree = mkdtempSync(join(tmpdir(), 'pm-bundle-tree-'));
  for (const path of ['bin', 'package.json', 'dist/src', 'dist/console', 'dist/runtimes']) cpSync(join(repoRoot, path), join(tree, path), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(tree, 'node_modules'));
  mkdirSync(join(tree, 'dist', 'daemon'));
  await bundlePlatform({ root: tree, outdir: join(tree, 'dist', 'daemon'), marker: 'dist/daemon', sqlite: 'external' });
  const run = join(tree, 'dist', 'src', 'daemon', 'run.js');
  const text = readFileSync(run, 'utf8');
  expect(text).toContain('export async function runDaemon(settings) {');
  writeFileSync(run, text.replace('export async function runDaemon(settings) {', "export async function runDaemon(settings) { throw new Error('the daemon ran from dist/src');"));
  writeFileSync(join(tree, 'dist', 'src', 'tls', 'signing-worker.js'), "throw new Error('the signing worker ran from dist/src');\n");
  const up = join(tree, 'dist', 'src', 'cli', 'commands', 'up.js');
  const upText = readFileSync(up, 'utf8');
  expect(upText).toContain('async function up(words, options) {');
  writeFileSync(up, upText.replace('async function up(words, options) {', "async function up(words, options) { throw new Error('up ran from dist/src');"));
  const ps = join(tree, 'dist', 'src', 'cli', 'commands', 'ps.js');
  const psText = readFileSync(ps, 'utf8');
  expect(psText).toContain('async function ps(app, options) {');
  writeFileSync(ps, psText.replace('async function ps(app, options) {', "async function ps(app, options) { throw new Error('ps ran from dist/src');"));
}, 120_000);

afterAll(async () => {
  for (const { home, cleanup } of homes) {
    await paasmaker(['daemon', 'stop'], home);
    try {
      const { pid } = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { pid: number };
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // never started
    }
    cleanup();
  }
  if (tree) rmSync(tree, { recursive: true, force: true });
});

function paasmaker(args: string[], home: string) {
  return execa(join(tree, 'bin', 'paasmaker'), args, { env: cliEnv(home), reject: false, timeout: 60_000 });
}

function home(): string {
  const made = tempHome();
  homes.push(made);
  return made.home;
}

describe("the daemon's bundle", () => {
  it('daemon start runs it: an app up behind the router on http and https (the signing worker), the web console, the state', async () => {
    const pmHome = home();
    const app = mkdtempSync(join(tmpdir(), 'pm-bundle-app-'));
    homes.push({ home: pmHome, cleanup: () => rmSync(app, { recursive: true, force: true }) });
    writeFileSync(join(app, 'paasmaker.yml'), `application:\n  name: bundled\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('bundled ok')).listen(process.env.PORT, '127.0.0.1')"\n`);
    const up = await paasmaker(['up', '-d', app], pmHome);
    expect(up.exitCode, `${up.stderr}\n${readFileSync(join(pmHome, 'logs', 'daemon.log'), 'utf8')}`).toBe(0);
    const status = JSON.parse((await paasmaker(['daemon', 'status', '--json'], pmHome)).stdout) as { proxyPort: number; tlsPort: number; apps: string[] };
    expect(status.apps).toEqual(['bundled']);
    expect(await getByHost(status.proxyPort, 'bundled.localhost')).toBe('bundled ok');
    const root = join(pmHome, 'tls', 'root.pem');
    await until(() => statSync(root, { throwIfNoEntry: false }), 20_000, 'root.pem');
    expect(await httpsGet(status.tlsPort, 'bundled.localhost', readFileSync(root, 'utf8'))).toBe('bundled ok');
    expect(await getByHost(status.proxyPort, 'paasmaker.localhost')).toMatch(/<!doctype html>/i);
    const ps = JSON.parse((await paasmaker(['ps', '--json'], pmHome)).stdout) as Array<{ app: string; state: string }>;
    expect(ps.map((row) => [row.app, row.state])).toEqual([['bundled', 'running']]);
    expect((await paasmaker(['daemon', 'stop'], pmHome)).exitCode).toBe(0);
  }, 120_000);

  it('a foreground up runs from it too: the app served by its own router, Ctrl-C heard', async () => {
    const pmHome = home();
    const app = mkdtempSync(join(tmpdir(), 'pm-bundle-up-'));
    homes.push({ home: pmHome, cleanup: () => rmSync(app, { recursive: true, force: true }) });
    writeFileSync(join(app, 'paasmaker.yml'), `application:\n  name: bundled-up\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('up ok')).listen(process.env.PORT, '127.0.0.1')"\n`);
    const port = await freePort();
    const up = paasmaker(['up', app, '--no-tui', '--no-tls', '--proxy-port', String(port)], pmHome);
    try {
      await until(() => getByHost(port, 'bundled-up.localhost').then((body) => body === 'up ok', () => false), 60_000, 'up to serve the app');
    } finally {
      up.kill('SIGINT');
    }
    const result = await up;
    expect(result.stderr).not.toContain('up ran from dist/src');
    expect(result.stdout, result.stderr).toContain('interrupted: stopping bundled-up');
    expect(result.stdout, result.stderr).toContain('bundled-up stopped');
    expect(result.exitCode).toBe(130);
  }, 120_000);

  it('is not run when it is older than dist/src (tsc alone has rebuilt that since)', async () => {
    const pmHome = home();
    const main = statSync(join(tree, 'dist', 'src', 'cli', 'main.js')).mtime;
    const older = new Date(main.getTime() - 60_000);
    utimesSync(join(tree, 'dist', 'daemon', 'cli', 'main.js'), older, older);
    const start = await paasmaker(['daemon', 'start'], pmHome);
    expect(start.exitCode).not.toBe(0);
    expect(readFileSync(join(pmHome, 'logs', 'daemon.log'), 'utf8')).toContain('the daemon ran from dist/src');
  }, 120_000);
});
