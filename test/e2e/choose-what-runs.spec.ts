import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest, getByHost, psJson, runCli, Scratch, until, type CliProcess } from '../helpers/cli.js';

const scratch = new Scratch();
const { project, home, up } = scratch;
afterEach(() => scratch.cleanup());

const SERVER = (text: string) => `require('http').createServer((req, res) => res.end('${text}')).listen(process.env.PORT, '127.0.0.1');\n`;
const IDLE = 'setInterval(() => {}, 1000);\n';

/** A Procfile project: a web and a worker. */
const webAndWorker = () => project({ Procfile: 'web: node web.js\nworker: node idle.js\n', 'web.js': SERVER('web'), 'idle.js': IDLE });

/** A web that depends on a queue, and a worker. */
const webQueueWorker = (name: string) =>
  project({
    'paasmaker.yml': [
      `application: {name: ${name}}`,
      'instances:',
      '  web: {command: node web.js, depends_on: [queue]}',
      '  queue: {command: node idle.js, standalone: true}',
      '  worker: {command: node idle.js, standalone: true}',
      '',
    ].join('\n'),
    'web.js': SERVER('web'),
    'idle.js': IDLE,
  });

const running = async (home: string) =>
  (await psJson(home))
    .filter((row) => row.state === 'running')
    .map((row) => row.instance)
    .sort();

describe('choosing what runs', () => {
  it('up web (from the project folder): web and what it depends on start, the worker does not', async () => {
    const dir = webQueueWorker('subset');
    const pmHome = home();
    const started = await up(['web'], { home: pmHome, cwd: dir }, /subset is up/);
    expect(started.output).toContain('(2 instance type(s))');
    expect(await running(pmHome)).toEqual(['queue', 'web']);
  }, 60_000);

  it('a misspelt instance type exits 1 before anything starts, with a did-you-mean', async () => {
    const dir = webAndWorker();
    const result = await runCli(['up', '--no-tui', dir, 'wroker'], { home: home() });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('has no instance type "wroker" — did you mean "worker"?');
    expect(result.stderr).toContain('its instance types: web, worker');
  });

  it('-f Procfile.dev and PAASMAKER_MANIFEST run that file instead of the Procfile; without them the Procfile runs', async () => {
    const dir = project({ Procfile: 'web: node web.js production\n', 'Procfile.dev': 'web: node web.js development\n', 'web.js': "require('http').createServer((q, r) => r.end(process.argv[2])).listen(process.env.PORT, '127.0.0.1');\n" });
    const app = dir.split('/').pop()!.toLowerCase();
    const answer = async (process: CliProcess) => getByHost(Number(new RegExp(`open (?:https://\\S+ \\(or )?http://${app}\\.localhost:(\\d+)/`).exec(process.output)![1]), `${app}.localhost`);
    const ready = new RegExp(`open (?:https://\\S+ \\(or )?http://${app}\\.localhost:\\d+/`);

    const byFlag = await up(['-f', 'Procfile.dev', dir], { home: home() }, ready);
    expect(byFlag.output).toContain(`from ${join(dir, 'Procfile.dev')}`);
    expect(await answer(byFlag)).toBe('development');

    const byEnv = await up([dir], { home: home(), env: { PAASMAKER_MANIFEST: 'Procfile.dev' } }, ready);
    expect(await answer(byEnv)).toBe('development');

    const plain = await up([dir], { home: home() }, ready);
    expect(await answer(plain)).toBe('production');
  }, 90_000);

  it('a save of the chosen file reloads from it, and keeps to the chosen instance types', async () => {
    const dir = project({ Procfile: 'web: node web.js production\n', 'Procfile.dev': 'web: node web.js one\nworker: node idle.js\n', 'web.js': "require('http').createServer((q, r) => r.end(process.argv[2])).listen(process.env.PORT, '127.0.0.1');\n", 'idle.js': IDLE });
    const app = dir.split('/').pop()!.toLowerCase();
    const pmHome = home();
    const process = await up(['-f', 'Procfile.dev', dir, 'web'], { home: pmHome, watch: true }, /watching for changes/);
    const port = Number(new RegExp(`open (?:https://\\S+ \\(or )?http://${app}\\.localhost:(\\d+)/`).exec(process.output)![1]);
    expect(await getByHost(port, `${app}.localhost`)).toBe('one');
    writeFileSync(join(dir, 'Procfile.dev'), 'web: node web.js two\nworker: node idle.js\n');
    await until(async () => (await getByHost(port, `${app}.localhost`)) === 'two', 20_000, 'the reload to "two"');
    expect(await running(pmHome)).toEqual(['web']);
  }, 60_000);

  it('up -d DIR web runs only web and what it depends on in the daemon, and a daemon restart brings back the same subset', async () => {
    const dir = webQueueWorker('dsubset');
    const pmHome = scratch.daemonHome();
    const started = await runCli(['up', '-d', dir, 'web'], { home: pmHome });
    expect(started.exitCode, started.stderr).toBe(0);
    expect(started.stdout).toContain('dsubset is up');
    expect(await running(pmHome)).toEqual(['queue', 'web']);

    expect((await runCli(['daemon', 'stop'], { home: pmHome })).exitCode).toBe(0);
    const restarted = await runCli(['daemon', 'start'], { home: pmHome });
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    await until(async () => (await running(pmHome)).length >= 2, 20_000, 'the subset to come back');
    expect(await running(pmHome)).toEqual(['queue', 'web']);
  }, 90_000);

  it('-f Procfile.dev runs that file in the daemon (-d and attached), and after a daemon restart too', async () => {
    const dir = project({ Procfile: 'web: node web.js production\n', 'Procfile.dev': 'web: node web.js development\n', 'web.js': "require('http').createServer((q, r) => r.end(process.argv[2])).listen(process.env.PORT, '127.0.0.1');\n" });
    const app = dir.split('/').pop()!.toLowerCase();
    const pmHome = scratch.daemonHome();
    const answer = async () => {
      const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home: pmHome })).stdout) as { proxyPort: number };
      return getByHost(status.proxyPort, `${app}.localhost`);
    };

    const detached = await runCli(['up', '-d', '-f', 'Procfile.dev', dir], { home: pmHome });
    expect(detached.exitCode, detached.stderr).toBe(0);
    expect(await answer()).toBe('development');

    expect((await runCli(['daemon', 'stop'], { home: pmHome })).exitCode).toBe(0);
    expect((await runCli(['daemon', 'start'], { home: pmHome })).exitCode).toBe(0);
    await until(async () => (await answer().catch(() => '')) === 'development', 20_000, 'the Procfile.dev app to come back');
    expect((await runCli(['down', app], { home: pmHome })).exitCode).toBe(0);

    // A foreground up while the daemon runs: the project joins it, with the file chosen here.
    const attached = await up([dir], { home: pmHome, env: { PAASMAKER_MANIFEST: 'Procfile.dev' } }, new RegExp(`open (?:https://\\S+ \\(or )?http://${app}\\.localhost:\\d+/`));
    expect(attached.output).toContain('in the daemon');
    expect(await answer()).toBe('development');
  }, 120_000);

  it('a stopped app is answered from the file and instance types it last ran with, not the folder\'s default manifest', async () => {
    const dir = project({ Procfile: 'web: node web.js\n', 'Procfile.dev': 'web: node web.js\nclock: node idle.js\n', 'web.js': SERVER('web'), 'idle.js': IDLE });
    const app = dir.split('/').pop()!.toLowerCase();
    const pmHome = scratch.daemonHome();
    expect((await runCli(['up', '-d', '-f', 'Procfile.dev', dir], { home: pmHome })).exitCode).toBe(0);
    expect((await runCli(['down', app], { home: pmHome })).exitCode).toBe(0);
    const socket = join(pmHome, 'paasmaker.sock');
    // The clock instance type is in Procfile.dev only.
    const env = await apiRequest(socket, 'GET', `/api/v1/apps/${app}/env?instance=clock`);
    expect(env.status, JSON.stringify(env.json)).toBe(200);
    expect(env.json.PAASMAKER_APP).toBe(app);
  }, 60_000);

  it('the daemon refuses an instance type the manifest lacks, with a did-you-mean (as the foreground does)', async () => {
    const dir = webAndWorker();
    const pmHome = scratch.daemonHome();
    expect((await runCli(['daemon', 'start'], { home: pmHome })).exitCode).toBe(0);
    const refused = await apiRequest(join(pmHome, 'paasmaker.sock'), 'POST', '/api/v1/apps', { body: { directory: dir, instances: ['wroker'] } });
    expect(refused.json).toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    expect(refused.json.error).toContain('did you mean "worker"?');
    const badFile = await apiRequest(join(pmHome, 'paasmaker.sock'), 'POST', '/api/v1/apps', { body: { directory: dir, file: 'Procfile.dve' } });
    expect(badFile.json).toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
    expect(badFile.json.error).toContain('did you mean "Procfile"');
    expect((await apiRequest(join(pmHome, 'paasmaker.sock'), 'POST', '/api/v1/apps', { body: { directory: dir, instances: [''] } })).status).toBe(400);
    expect(await psJson(pmHome)).toEqual([]);
  }, 60_000);
});
