import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VersionRow } from '../../src/shared/views.js';
import { cliEnv, runCli, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';
import { getHost, load as loadHost } from '../helpers/load.js';

// Deploying versions from source control, end to end: a git repository of a
// real app, deployed with paasmaker deploy and with git push, switched and
// rolled back under load with no failed request.

const SERVER = (text: string) => `require('http').createServer((req, res) => res.end('${text} ' + require('fs').readFileSync('built.txt', 'utf8'))).listen(process.env.PORT, '127.0.0.1');\n`;
const MANIFEST = ['application:', '  name: shop', 'instances:', '  web:', '    command: node server.js', `    prepare: ["node -e \\"require('fs').writeFileSync('built.txt', 'prepared')\\""]`, ''].join('\n');

let home: string;
let repo: string;
let proxyPort: number;
let tlsPort: number;
let cleanup: () => Promise<void>;

const git = (args: string[], cwd = repo) => execa('git', args, { cwd, env: { GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.com' } });

async function commit(text: string, message: string, server = SERVER(text)): Promise<string> {
  writeFileSync(join(repo, 'server.js'), server);
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', message]);
  return (await git(['rev-parse', 'HEAD'])).stdout.trim();
}

/** One GET through the router by hostname; four keep-alive clients on shop.localhost (test/helpers/load.ts). */
const get = (host: string) => getHost(proxyPort, host);
const load = () => loadHost(proxyPort, 'shop.localhost');

const versions = async () => JSON.parse((await runCli(['versions', 'shop', '--json'], { home })).stdout) as VersionRow[];

beforeAll(async () => {
  const temp = tempHome();
  home = temp.home;
  repo = mkdtempSync(join(tmpdir(), 'pm-deploy-repo-'));
  cleanup = async () => {
    await stopDaemonAndRemove(home, temp.cleanup);
    rmSync(repo, { recursive: true, force: true });
  };
  await git(['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, 'paasmaker.yml'), MANIFEST);
  writeFileSync(join(repo, '.gitignore'), 'built.txt\n');
  await commit('one', 'first version');
  const started = await runCli(['daemon', 'start'], { home });
  expect(started.exitCode, started.stderr).toBe(0);
  ({ proxyPort, tlsPort } = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { proxyPort: number; tlsPort: number });
}, 60_000);

afterAll(async () => cleanup?.());

// Runs once the engine's deploys land (Platform.deploy and the rest are stubs until then).
describe('deploying versions', () => {
  it('deploys the repository at HEAD, refuses a dirty work tree, and shows the steps as they run', async () => {
    writeFileSync(join(repo, 'server.js'), SERVER('uncommitted'));
    const dirty = await runCli(['deploy'], { home, cwd: repo });
    expect(dirty.exitCode).toBe(1);
    expect(dirty.stderr).toMatch(/uncommitted|dirty/);
    await git(['checkout', '--', 'server.js']);

    const first = await runCli(['deploy'], { home, cwd: repo });
    expect(first.exitCode, first.stderr).toBe(0);
    // The root job is named by its source until the manifest names the app; each step once as it starts, once as it ends.
    expect(first.stdout).toMatch(/^deploy \S+…$/m);
    expect(first.stdout).toMatch(/^ {2}prepare web…\n(.*\n)* {2}prepare web: done$/m);
    expect(first.stdout.match(/^ {2}prepare web…$/gm)).toHaveLength(1);
    expect(first.stdout).toMatch(/^deploy shop v1: done$/m);
    // With the router on TLS, the URLs shown are https (http still in versions --json, as url).
    expect(first.stdout).toContain(`shop v1 is current: https://shop.localhost:${tlsPort}/ (also https://v1.shop.localhost:${tlsPort}/)`);
    expect((await versions()).find((row) => row.version === 1)).toMatchObject({ url: `http://v1.shop.localhost:${proxyPort}/`, httpsUrl: `https://v1.shop.localhost:${tlsPort}/` });
    expect(await get('shop.localhost')).toEqual({ status: 200, body: 'one prepared' });
  }, 120_000);

  it('deploys a push of the branch to the repository git init made, its steps in the push output, and refuses a push whose deploy fails', async () => {
    const init = await runCli(['git', 'init', 'shop'], { home });
    expect(init.exitCode, init.stderr).toBe(0);
    const remote = /git remote add paasmaker (\S+)/.exec(init.stdout)![1]!;
    expect(remote).toBe(join(home, 'git', 'shop.git'));
    expect((await runCli(['git', 'init', 'shop'], { home })).exitCode).toBe(0);
    await git(['remote', 'add', 'paasmaker', remote]);

    const second = await commit('two', 'second version');
    const push = await execa('git', ['push', 'paasmaker', 'main'], { cwd: repo, env: cliEnv(home), reject: false });
    expect(push.exitCode, push.stderr).toBe(0);
    expect(push.stderr).toMatch(/remote: .*prepare/);
    expect(push.stderr).toContain('remote: shop v2 is current');
    expect(await get('shop.localhost')).toEqual({ status: 200, body: 'two prepared' });
    const [v2, v1] = await versions();
    expect(v2).toMatchObject({ version: 2, current: true, commit: second, message: 'second version', author: expect.stringContaining('Ada'), state: 'running' });
    expect(v1).toMatchObject({ version: 1, previous: true, message: 'first version' });

    // A commit that cannot start never becomes current: the push is refused, v2 keeps serving.
    await commit('three', 'broken version', 'this is not javascript(\n');
    const broken = await execa('git', ['push', 'paasmaker', 'main'], { cwd: repo, env: cliEnv(home), reject: false });
    expect(broken.exitCode).not.toBe(0);
    expect(broken.stderr).toMatch(/remote: .*error/);
    expect(await get('shop.localhost')).toEqual({ status: 200, body: 'two prepared' });
    expect((await versions()).find((row) => row.current)?.version).toBe(2);
    await git(['reset', '-q', '--hard', 'HEAD~1']);
  }, 180_000);

  it('switches and rolls back under four keep-alive connections with no failed request; both versions answer on their own names', async () => {
    const traffic = load();
    try {
      await until(() => traffic.counts.ok > 100, 10_000, 'traffic to flow');
      const rolled = await runCli(['rollback', 'shop'], { home });
      expect(rolled.exitCode, rolled.stderr).toBe(0);
      expect(rolled.stdout).toContain('shop v1 is current');
      expect((await get('shop.localhost')).body).toBe('one prepared');
      const switched = await runCli(['switch', 'shop', '2'], { home });
      expect(switched.exitCode, switched.stderr).toBe(0);
      expect((await get('shop.localhost')).body).toBe('two prepared');
    } finally {
      await traffic.stop();
    }
    expect(traffic.counts.failed).toBe(0);
    expect([...traffic.counts.bodies.keys()].sort()).toEqual(['one prepared', 'two prepared']);

    // A preview of v1 answers on its own name while v2 serves.
    expect((await runCli(['versions', 'start', 'shop', '1'], { home })).exitCode).toBe(0);
    expect(await get('v1.shop.localhost')).toEqual({ status: 200, body: 'one prepared' });
    expect(await get('v2.shop.localhost')).toEqual({ status: 200, body: 'two prepared' });
    const table = await runCli(['versions', 'shop'], { home });
    expect(table.stdout).toMatch(/^VERSION\s+STATE\s+SERVING\s+COMMIT\s+MESSAGE\s+CREATED\s+SIZE\s+URL/);
    expect(table.stdout).toMatch(/^2\*\s+running\s+yes\s+[0-9a-f]{7}\s+second version/m);
  }, 120_000);

  it('deploys a tarball, and prune keeps the newest, the current and the previous', async () => {
    const archive = join(repo, '..', `${repo.split('/').pop()}.tar.gz`);
    await git(['archive', '--format=tar.gz', '-o', archive, 'HEAD']);
    try {
      const deployed = await runCli(['deploy', archive, '--no-switch'], { home });
      expect(deployed.exitCode, deployed.stderr).toBe(0);
      expect(deployed.stdout).toContain('shop v4 is ready, not current');
    } finally {
      rmSync(archive, { force: true });
    }
    const pruned = await runCli(['versions', 'prune', 'shop', '--keep', '1'], { home });
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    const left = (await versions()).map((row) => row.version);
    // v4 the newest, v2 current, v1 previous; v3 (broken) removed.
    expect(left).toEqual([4, 2, 1]);
  }, 120_000);
});
