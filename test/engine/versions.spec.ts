import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Platform, type JobUpdateEvent } from '../../src/engine/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { tempHome } from '../helpers/cli.js';
import { getHost, load } from '../helpers/load.js';

// Deployed versions as the engine runs them: a git repository with commits
// of a real app; deploy, switch and roll back while four keep-alive clients
// ask the app's name, and count every failure.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' });

/** A repository of a small app whose answer is its version.txt, read once at start; prepare writes prepared.txt. */
function appRepository(name = 'shipit'): { dir: string; commit: (body: string, message: string, files?: Record<string, string>) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pm-versions-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  git(dir, 'init', '-q');
  writeFileSync(
    join(dir, 'paasmaker.yml'),
    `application:\n  name: ${name}\ninstances:\n  web:\n    runtime: {name: node}\n    prepare:\n      commands: ["node prepare.js"]\n    command: node server.js\n`,
  );
  writeFileSync(join(dir, 'prepare.js'), "require('node:fs').writeFileSync('prepared.txt', 'prepared\\n');\n");
  writeFileSync(
    join(dir, 'server.js'),
    [
      "const { readFileSync } = require('node:fs');",
      "const body = readFileSync('version.txt', 'utf8').trim();",
      "if (body === 'broken') { console.error('this version cannot start'); process.exit(3); }",
      "const server = require('node:http').createServer((req, res) => res.end(body));",
      "server.listen(Number(process.env.PORT), '127.0.0.1');",
      "process.on('SIGTERM', () => server.close(() => process.exit(0)));",
    ].join('\n'),
  );
  const commit = (body: string, message: string, files: Record<string, string> = {}) => {
    writeFileSync(join(dir, 'version.txt'), `${body}\n`);
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', message);
  };
  return { dir, commit };
}

async function openPlatform(): Promise<{ platform: Platform; home: string }> {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  const platform = await Platform.open({ home, proxy: { port: 0 } });
  cleanups.push(() => platform.close());
  return { platform, home };
}

describe('deployed versions', () => {
  it('deploys v1 and v2, switches back and forth and rolls back under load with no failed request; a broken commit never becomes current', { timeout: 120_000 }, async () => {
    const { platform, home } = await openPlatform();
    const repo = appRepository();
    const port = platform.routerPort!;
    const jobs: JobUpdateEvent[] = [];
    platform.on('job.update', (event) => jobs.push(event));

    repo.commit('one', 'first version');
    const first = await platform.deploy({ source: { location: repo.dir } });
    expect(first).toMatchObject({ switched: true, version: { app: 'shipit', version: 1, state: 'running', current: true, serving: true, kind: 'git', message: 'first version', author: 'Ada <ada@example.com>' } });
    expect(first.version.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(first.version.directory).toBe(join(home, 'versions', 'shipit', '1'));
    // prepare ran in the version's own folder, never in the repository.
    expect(readFileSync(join(first.version.directory, 'prepared.txt'), 'utf8')).toBe('prepared\n');
    expect(existsSync(join(repo.dir, 'prepared.txt'))).toBe(false);
    expect(await getHost(port, 'shipit.localhost')).toEqual({ status: 200, body: 'one' });
    expect(await getHost(port, 'v1.shipit.localhost')).toEqual({ status: 200, body: 'one' });
    expect(jobs).toContainEqual(expect.objectContaining({ app: 'shipit', title: 'deploy shipit v1', state: 'success' }));
    expect(platform.serving('shipit')).toEqual({ version: 1, servedBy: 'version' });
    expect(platform.processes('shipit')).toEqual([expect.objectContaining({ instance: 'web', index: 0, state: 'running' })]);

    const traffic = load(port, 'shipit.localhost');
    repo.commit('two', 'second version');
    const second = await platform.deploy({ source: { location: repo.dir } });
    expect(second.version).toMatchObject({ version: 2, current: true, serving: true, message: 'second version' });
    expect(await getHost(port, 'shipit.localhost')).toEqual({ status: 200, body: 'two' });

    const back = await platform.switchVersion('shipit', 1);
    expect(back).toMatchObject({ version: 1, current: true, serving: true, state: 'running' });
    expect(await getHost(port, 'shipit.localhost')).toEqual({ status: 200, body: 'one' });
    await platform.switchVersion('shipit', 2);
    expect(await getHost(port, 'shipit.localhost')).toEqual({ status: 200, body: 'two' });
    const rolled = await platform.rollback('shipit');
    expect(rolled).toMatchObject({ version: 1, current: true });
    expect(await getHost(port, 'shipit.localhost')).toEqual({ status: 200, body: 'one' });

    // A third commit that cannot start: it fails, v1 keeps serving.
    repo.commit('broken', 'a broken version');
    await expect(platform.deploy({ source: { location: repo.dir } })).rejects.toMatchObject({ code: 'DEPLOY_FAILED', message: expect.stringMatching(/v3 of shipit failed/) });
    await traffic.stop();
    expect(traffic.counts.failures).toEqual([]);
    expect(traffic.counts.failed).toBe(0);
    expect(traffic.counts.bodies.get('one')).toBeGreaterThan(0);
    expect(traffic.counts.bodies.get('two')).toBeGreaterThan(0);
    expect(traffic.counts.bodies.has('broken')).toBe(false);

    const versions = platform.versions('shipit');
    expect(versions.map((version) => [version.version, version.state, version.current, version.previous])).toEqual([
      [3, 'failed', false, false],
      [2, 'stopped', false, true],
      [1, 'running', true, false],
    ]);
    expect(versions[0]!.error).toMatch(/did not come up|exited/);
    await expect(platform.switchVersion('shipit', 3)).rejects.toMatchObject({ code: 'DEPLOY_FAILED' });
    await expect(platform.switchVersion('shipit', 9)).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });

    // Prune keeps the newest one, the current and the previous: only v3 goes, with its code.
    expect(await platform.pruneVersions('shipit', 0)).toEqual([3]);
    expect(existsSync(join(home, 'versions', 'shipit', '3'))).toBe(false);
    expect(platform.versions('shipit').map((version) => version.version)).toEqual([2, 1]);
  });

  it('previews a version on vN.APP.localhost before switching; a development up takes APP.localhost and gives it back', { timeout: 120_000 }, async () => {
    const { platform } = await openPlatform();
    const repo = appRepository('twin');
    const port = platform.routerPort!;
    repo.commit('one', 'first');
    await platform.deploy({ source: { location: repo.dir } });
    repo.commit('two', 'second');
    const preview = await platform.deploy({ source: { location: repo.dir }, switch: false });
    expect(preview).toMatchObject({ switched: false, version: { version: 2, current: false, serving: false, state: 'running' } });
    expect(preview.version.url).toBe(`http://v2.twin.localhost:${port}/`);
    expect(await getHost(port, 'twin.localhost')).toEqual({ status: 200, body: 'one' });
    expect(await getHost(port, 'v1.twin.localhost')).toEqual({ status: 200, body: 'one' });
    expect(await getHost(port, 'v2.twin.localhost')).toEqual({ status: 200, body: 'two' });

    // Switching to the running preview moves the name to its processes, and v1 stops.
    await platform.switchVersion('twin', 2);
    expect(await getHost(port, 'twin.localhost')).toEqual({ status: 200, body: 'two' });
    expect(platform.versions('twin').map((version) => [version.version, version.state, version.serving])).toEqual([
      [2, 'running', true],
      [1, 'stopped', false],
    ]);
    expect((await getHost(port, 'v1.twin.localhost')).status).toBe(404);

    // A development up of the folder holds twin.localhost; v2 stays on v2.twin.localhost.
    writeFileSync(join(repo.dir, 'version.txt'), 'dev\n');
    await platform.apply(loadManifest(repo.dir));
    expect(platform.serving('twin')).toEqual({ version: 2, servedBy: 'dev' });
    expect(await getHost(port, 'twin.localhost')).toEqual({ status: 200, body: 'dev' });
    expect(await getHost(port, 'v2.twin.localhost')).toEqual({ status: 200, body: 'two' });
    expect(platform.versions('twin')[0]).toMatchObject({ version: 2, current: true, serving: false, state: 'running' });

    // The up ends: v2 answers twin.localhost again.
    await platform.stopDev('twin');
    expect(platform.serving('twin')).toEqual({ version: 2, servedBy: 'version' });
    expect(await getHost(port, 'twin.localhost')).toEqual({ status: 200, body: 'two' });

    // down stops every version, and none is brought back.
    expect(await platform.down('twin')).toBe('stopped');
    expect(platform.versions('twin').map((version) => version.state)).toEqual(['stopped', 'stopped']);
    expect(platform.state.versions.runningApps()).toEqual([]);
  });
});

describe('deployed versions across platform restarts', () => {
  it('brings the current version back when the daemon starts again, and not one taken down', { timeout: 90_000 }, async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const repo = appRepository('again');
    repo.commit('one', 'first');
    const first = await Platform.open({ home, proxy: { port: 0 } });
    await first.deploy({ source: { location: repo.dir } });
    await first.close();

    const second = await Platform.open({ home, proxy: { port: 0 } });
    cleanups.push(() => second.close());
    expect(await second.restoreVersions(() => {})).toEqual([]);
    expect(second.serving('again')).toEqual({ version: 1, servedBy: 'version' });
    expect(await getHost(second.routerPort!, 'again.localhost')).toEqual({ status: 200, body: 'one' });
    await second.down('again');
    await second.close();

    const third = await Platform.open({ home, proxy: { port: 0 } });
    cleanups.push(() => third.close());
    await third.restoreVersions(() => {});
    expect(third.serving('again')).toEqual({ version: 1, servedBy: null });
    expect((await getHost(third.routerPort!, 'again.localhost')).status).toBe(404);
  });
});

describe('deploys that fail early', () => {
  it('a source without a manifest is refused naming the source; a failing prepare leaves a failed version that never runs', { timeout: 60_000 }, async () => {
    const { platform } = await openPlatform();
    const empty = mkdtempSync(join(tmpdir(), 'pm-empty-'));
    cleanups.push(() => rmSync(empty, { recursive: true, force: true }));
    writeFileSync(join(empty, 'README.md'), 'nothing to run\n');
    const refused = await platform.deploy({ source: { location: empty } }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
    expect(String((refused as Error).message)).not.toMatch(/\.incoming/);

    const folder = mkdtempSync(join(tmpdir(), 'pm-folder-'));
    cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
    writeFileSync(join(folder, 'paasmaker.yml'), 'application:\n  name: badprep\ninstances:\n  web:\n    runtime: {name: node}\n    prepare:\n      commands: ["echo compiling; exit 7"]\n    command: node -e 0\n');
    const failed = await platform.deploy({ source: { location: folder } }).catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: 'DEPLOY_FAILED', message: expect.stringMatching(/v1 of badprep failed: prepare of instance "web" failed/), hint: expect.stringMatching(/nothing of it was started/) });
    expect(platform.versions('badprep')).toEqual([expect.objectContaining({ version: 1, state: 'failed', kind: 'folder', current: false })]);
    expect(platform.serving('badprep')).toEqual({ version: null, servedBy: null });
  });
});
