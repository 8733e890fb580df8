import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, getByHost, repoRoot, runCli, tempHome } from '../helpers/cli.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The node-18 fixture copied to a folder of its own, under another app name. */
function project(name: string, version = '18'): string {
  const dir = mkdtempSync(join(tmpdir(), `pm-${name}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(repoRoot, 'test', 'fixtures', 'projects', 'node-18'), dir, { recursive: true });
  const manifest = join(dir, 'paasmaker.yml');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('name: node-18', `name: ${name}`).replace('version: "18"', `version: "${version}"`));
  return dir;
}

function home(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  return home;
}

/** The versions installed under a PAASMAKER_HOME (none when it never installed one). */
function installedHere(pmHome: string): string[] {
  const root = join(pmHome, 'runtimes', 'node');
  return existsSync(root) ? readdirSync(root) : [];
}

/** A foreground `up` until its router URL is printed; stopped (Ctrl-C) by the returned function, at the latest by the test's cleanup. */
async function up(dir: string, pmHome: string, name: string) {
  const process = new CliProcess(['up', dir, '--no-tui', '--no-watch'], { home: pmHome });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.signal('SIGINT');
    await process.wait(15_000).catch(() => process.kill());
  };
  cleanups.push(stop);
  return {
    process,
    stop,
    ready: async () => {
      // "open http://APP.localhost:PORT/", or with TLS "open https://… (or http://APP.localhost:PORT/)".
      const url = new RegExp(`open (?:https://\\S+ \\(or )?http://${name}\\.localhost:(\\d+)/`);
      await process.waitForOutput(url, 240_000);
      return Number(url.exec(process.output)![1]);
    },
  };
}

/** `paasmaker jobs show` of the app's latest root job (its tree, with each step's log). */
async function lastJobTree(pmHome: string, app: string): Promise<string> {
  const roots = JSON.parse((await runCli(['jobs', '--app', app, '--json'], { home: pmHome })).stdout) as Array<{ id: string; title: string }>;
  return (await runCli(['jobs', 'show', roots[0]!.id], { home: pmHome })).stdout;
}

describe('Node.js versions on demand', () => {
  it('two apps asking for Node 18 on a machine without it: installed once, under PAASMAKER_HOME, and used by both; a third up downloads nothing; removal waits for them to stop', async () => {
    const pmHome = home();
    const [a, b] = [project('node18a'), project('node18b')];
    // Two platforms of one home at once (two foreground ups): one downloads, the other waits for it.
    const [first, second] = [await up(a, pmHome, 'node18a'), await up(b, pmHome, 'node18b')];
    const [portA, portB] = await Promise.all([first.ready(), second.ready()]);
    for (const [port, name] of [[portA, 'node18a'], [portB, 'node18b']] as const) {
      const answer = JSON.parse(await getByHost(port, `${name}.localhost`)) as { node: string; prepared: string; npm: string };
      // The app, its prepare and the npm its prepare ran: all the installed Node 18.
      expect(answer.node).toMatch(/^v18\.\d+\.\d+$/);
      expect(answer.prepared).toBe(answer.node);
      expect(answer.npm).toMatch(/^\d+\.\d+\.\d+$/);
    }
    const installed = installedHere(pmHome);
    expect(installed).toEqual([expect.stringMatching(/^18\.\d+\.\d+$/)]);
    const version = installed[0]!;

    // One up downloaded it (a job of its up, with its progress); the other waited for it, or found it there.
    const outputs = [first.process.output, second.process.output];
    expect(outputs.filter((output) => output.includes(`install node 18: installed node ${version}`))).toHaveLength(1);
    const trees = [await lastJobTree(pmHome, 'node18a'), await lastJobTree(pmHome, 'node18b')];
    expect(trees.join('\n').match(/downloaded node-[a-z0-9]+-[a-z0-9]+@/g)).toHaveLength(1);
    expect(trees.join('\n')).toMatch(/^ {2}install node 18 success \S+ — installed node 18\./m);

    const listed = JSON.parse((await runCli(['runtimes', '--json'], { home: pmHome })).stdout) as Array<{ name: string; installed: Array<{ version: string; source: string; usedBy: string[] }> }>;
    expect(listed.find((row) => row.name === 'node')!.installed).toContainEqual({ version, source: 'paasmaker', binDir: join(pmHome, 'runtimes', 'node', version, 'bin'), usedBy: expect.any(Array) });

    // In use: refused, naming every app on it, across both platforms.
    const refused = await runCli(['runtimes', 'remove', 'node@18', '--yes'], { home: pmHome });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`node ${version} is in use by`);
    expect(refused.stderr).toContain('node18a/web');
    expect(refused.stderr).toContain('node18b/web');
    expect(existsSync(join(pmHome, 'runtimes', 'node', version, 'bin', 'node'))).toBe(true);

    // Asked again later: the installed one is used at once, with no install step.
    await second.stop();
    const third = await up(b, pmHome, 'node18b');
    await third.ready();
    expect(third.process.output).not.toContain('install node');
    expect(await lastJobTree(pmHome, 'node18b')).not.toContain('install node');
    await third.stop();
    await first.stop();

    // Nothing runs on it any more: removed, after asking (or --yes).
    const unconfirmed = await runCli(['runtimes', 'remove', `node@${version}`], { home: pmHome });
    expect(unconfirmed.exitCode).toBe(1);
    expect(unconfirmed.stderr).toContain('add --yes to confirm');
    const removed = await runCli(['runtimes', 'remove', `node@${version}`, '--yes'], { home: pmHome });
    expect(removed.stdout).toContain(`removed node ${version}`);
    expect(installedHere(pmHome)).toEqual([]);

    // doctor: a version the projects ask for and nothing here has is no fault (up installs it), and says how to install it ahead of time.
    const checks = JSON.parse((await runCli(['doctor', '--json'], { home: pmHome })).stdout) as Array<{ name: string; ok: boolean; what: string; fix: string | null }>;
    expect(checks.find((check) => check.name === 'runtime' && check.what.startsWith('runtime node 18 '))).toMatchObject({
      ok: true,
      what: expect.stringContaining('not installed here; paasmaker up installs it'),
      fix: 'to install it ahead of time: paasmaker runtimes install node@18',
    });
  }, 400_000);

  it('a registry that cannot be reached, npm set offline, or up --offline: the error names the version, why it could not be downloaded, and what to install by hand', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const pmHome = home();
    const dir = project('node16', '16');
    const unreachable = await runCli(['up', dir, '--no-tui', '--no-watch'], { home: pmHome, env: { npm_config_registry: `http://127.0.0.1:${closed}/` } });
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toContain('instance "web" needs node 16 (paasmaker.yml:5:3)');
    expect(unreachable.stderr).toContain(`the registry http://127.0.0.1:${closed}/ cannot be reached`);
    expect(unreachable.stderr).toMatch(/hint: install Node\.js 16 (from https:\/\/nodejs\.org|with)/);

    const offline = await runCli(['up', dir, '--no-tui', '--no-watch'], { home: pmHome, env: { npm_config_offline: 'true' } });
    expect(offline.exitCode).toBe(1);
    expect(offline.stderr).toContain('npm is set to work offline');
    expect(offline.stderr).toMatch(/hint: install Node\.js 16/);

    const told = await runCli(['up', dir, '--no-tui', '--no-watch', '--offline'], { home: pmHome });
    expect(told.exitCode).toBe(1);
    expect(told.stderr).toContain('instance "web" needs node 16 (paasmaker.yml:5:3)');
    expect(told.stderr).toContain('offline (--offline), Paasmaker downloads no runtime');
    expect(told.stderr).toMatch(/hint: install Node\.js 16/);
    expect(told.stdout).not.toContain('install node');
    expect(installedHere(pmHome)).toEqual([]);
  }, 60_000);

  it('a tarball that does not match the registry\'s integrity is not installed, and leaves nothing behind', async () => {
    // A registry of one package whose announced sha512 is another file's.
    const work = mkdtempSync(join(tmpdir(), 'pm-fake-registry-'));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    mkdirSync(join(work, 'package', 'bin'), { recursive: true });
    writeFileSync(join(work, 'package', 'bin', 'node'), '#!/bin/sh\necho v16.0.0\n', { mode: 0o755 });
    writeFileSync(join(work, 'package', 'package.json'), '{"name":"node-fake","version":"16.0.0"}\n');
    execFileSync('tar', ['-czf', join(work, 'node.tgz'), '-C', work, 'package']);
    const tarball = readFileSync(join(work, 'node.tgz'));
    const wrong = `sha512-${createHash('sha512').update('something else').digest('base64')}`;
    const name = `node-${process.platform}-${process.arch}`;
    const server: Server = createServer((request, response) => {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      if (request.url === `/${name}`) {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ name, 'dist-tags': { latest: '16.0.0' }, versions: { '16.0.0': { name, version: '16.0.0', dist: { tarball: `${base}/${name}/-/${name}-16.0.0.tgz`, integrity: wrong } } } }));
      } else if (request.url === `/${name}/-/${name}-16.0.0.tgz`) {
        response.end(tarball);
      } else {
        response.statusCode = 404;
        response.end('{}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const pmHome = home();
    // No retries: npm would try a mismatching download again after seconds of backoff.
    const env = { npm_config_fetch_retries: '0', npm_config_registry: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, npm_config_cache: join(work, 'npm-cache') };
    const result = await runCli(['runtimes', 'install', 'node@16'], { home: pmHome, env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/could not download node-[a-z0-9]+-[a-z0-9]+@16\.0\.0 .*integrity/);
    expect(installedHere(pmHome)).toEqual([]);
  }, 60_000);
});
