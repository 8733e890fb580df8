import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CronSchema, EnvironmentSchema, JobSchema, ProcessSchema, ProjectEnvironmentSchema, TrafficSchema } from '../../src/shared/views.js';
import { CliProcess, getByHost, runCli, runWatchingKeepers, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';
import { userToken } from '../helpers/auth.js';

// The CLI as a client of the API: with a platform running (the daemon, or a
// foreground up's socket) every command asks it; with none, reads come from
// a read-only view of state.db and only env, run and db shell open a platform.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An app that logs each request it serves, with a yearly cron and an SQLite service. */
function project(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-clients-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'paasmaker.yml'),
    `application:\n  name: ${name}\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => { console.log('hit ' + q.url); s.end('ok'); }).listen(process.env.PORT, '127.0.0.1')"\n    environment:\n      GREETING: hello\n    crons:\n      - {name: yearly, schedule: "0 0 1 1 *", command: "echo once a year"}\nservices:\n  notes:\n    plugin: sqlite\n`,
  );
  return dir;
}

function daemonHome(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(() => stopDaemonAndRemove(home, cleanup));
  return home;
}

/** A command's --json answer, checked against the API's schema for it. */
async function json<T extends z.ZodType>(args: string[], home: string, schema: T): Promise<z.infer<T>> {
  const result = await runCli(args, { home });
  expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return schema.parse(JSON.parse(result.stdout));
}

const Processes = z.array(ProcessSchema.strict());
const Crons = z.array(CronSchema.strict());
const Jobs = z.array(JobSchema.extend({ steps: z.number().int(), failedSteps: z.number().int() }).strict());
const Traffic = z.array(TrafficSchema.strict());

/** What ps, cron list and env answer, without what differs from run to run (pids, ports, times, the home). */
async function answers(home: string, dir: string) {
  const ps = await json(['ps', '--json'], home, Processes);
  const crons = await json(['cron', 'list', '--json'], home, Crons);
  const env = await json(['env', dir, '--json', '--show-secrets'], home, EnvironmentSchema);
  return {
    ps: ps.map((row) => ({ app: row.app, process: `${row.instance}.${row.index}`, state: row.state, hasPid: row.pid !== null, restarts: row.restarts })),
    crons: crons.map((row) => ({ app: row.app, name: row.name, instance: row.instance, schedule: row.schedule, target: row.target })),
    // The port the platform gave web.0 differs from run to run.
    env: { ...(JSON.parse(JSON.stringify(env).replaceAll(home, '$HOME')) as Record<string, string>), PORT: /^\d+$/.test(env.PORT ?? '') ? '<port>' : env.PORT },
  };
}

function post(socketPath: string, path: string, body: unknown, tcp?: { port: number; token: string }): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const where = tcp ? { host: '127.0.0.1', port: tcp.port } : { socketPath };
    const headers = { host: 'localhost', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...(tcp ? { authorization: `Bearer ${tcp.token}` } : {}) };
    const req = request({ ...where, path, method: 'POST', headers, agent: false }, (res) => {
      let answer = '';
      res.on('data', (chunk) => (answer += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, json: answer ? JSON.parse(answer) : undefined }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

describe('the CLI as a client of the API', () => {
  it('ps, cron list and env --json answer the same from the daemon and from a foreground up; with nothing running ps reads state.db without changing a byte', async () => {
    const dir = project('twin');
    const viaDaemon = daemonHome();
    expect((await runCli(['daemon', 'start'], { home: viaDaemon })).exitCode).toBe(0);
    const started = await runCli(['up', '-d', dir], { home: viaDaemon });
    expect(started.exitCode, started.stderr).toBe(0);
    const fromDaemon = await answers(viaDaemon, dir);
    expect(fromDaemon.ps).toEqual([{ app: 'twin', process: 'web.0', state: 'running', hasPid: true, restarts: 0 }]);
    expect(fromDaemon.crons).toEqual([{ app: 'twin', name: 'yearly', instance: 'web', schedule: '0 0 1 1 *', target: 'echo once a year' }]);
    expect(fromDaemon.env).toMatchObject({ PAASMAKER_APP: 'twin', GREETING: 'hello', NOTES_URL: 'sqlite://$HOME/data/twin/notes.sqlite' });

    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const up = new CliProcess(['up', dir, '--no-watch'], { home });
    cleanups.push(() => up.kill());
    await up.waitForOutput(/twin is up/, 30_000);
    expect(await answers(home, dir)).toEqual(fromDaemon);
    up.signal('SIGINT');
    expect(await up.wait()).toBe(130);

    // Nothing runs: the read-only view answers, and leaves the file as it was.
    const file = join(home, 'state.db');
    const before = { bytes: readFileSync(file), mtime: statSync(file).mtimeMs };
    expect(await json(['ps', '--json'], home, Processes)).toEqual([]);
    expect(await json(['ps', '-a', '--json'], home, Processes)).toEqual([{ app: 'twin', instance: 'web', index: 0, state: 'stopped', pid: null, port: null, restarts: 0, exitCode: null, uptime: null, rps: 0, cpu: null, memory: null, url: null, httpsUrl: null }]);
    expect((await json(['cron', 'list', '--json'], home, Crons)).map((row) => row.name)).toEqual(['yearly']);
    expect((await json(['jobs', '--json'], home, Jobs)).map((row) => row.title)).toContain('up twin');
    await json(['stats', '--json'], home, Traffic);
    expect(readFileSync(file).equals(before.bytes)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(before.mtime);
  }, 90_000);

  it('under a daemon that does not run the project, env, run and db shell ask it: it provisions the service, and they start no keeper of their own', async () => {
    const dir = project('guest');
    const home = daemonHome();
    expect((await runCli(['daemon', 'start', '--api-port', '0'], { home })).exitCode).toBe(0);
    const daemon = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { pid: number; apiPort: number };

    const env = await runWatchingKeepers(['env', dir, '--json', '--show-secrets'], home);
    expect(env.exitCode, env.stderr).toBe(0);
    expect(env.keepers).toBe(0);
    expect(JSON.parse(env.stdout)).toMatchObject({ PAASMAKER_APP: 'guest', NOTES_URL: `sqlite://${join(home, 'data', 'guest', 'notes.sqlite')}` });

    const run = await runWatchingKeepers(['run', dir, '--', 'node', '-e', 'console.log(process.env.PAASMAKER_APP, process.env.GREETING, process.env.NOTES_URL, process.env.PORT ?? "no port")'], home);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.keepers).toBe(0);
    expect(run.stdout.trim()).toBe(`guest hello sqlite://${join(home, 'data', 'guest', 'notes.sqlite')} no port`);
    const failing = await runCli(['run', dir, '--', 'sh', '-c', 'exit 7'], { home });
    expect(failing.exitCode).toBe(7);

    const shell = await runWatchingKeepers(['db', 'shell', '-C', dir], home, { input: "create table if not exists t (x); insert into t values (42); select x from t;\n" });
    expect(shell.exitCode, shell.stderr).toBe(0);
    expect(shell.keepers).toBe(0);
    expect(shell.stdout.trim()).toBe('42');
    expect(existsSync(join(home, 'data', 'guest', 'notes.sqlite'))).toBe(true);

    // The daemon provisioned it: the services jobs are its own, and it still runs no app.
    const jobs = await json(['jobs', '--json'], home, Jobs);
    expect(jobs.filter((job) => job.title === 'services notes').map((job) => job.ownerPid)).toEqual(expect.arrayContaining([daemon.pid]));
    expect(jobs.every((job) => job.ownerPid === daemon.pid)).toBe(true);
    expect(await json(['ps', '--json'], home, Processes)).toEqual([]);

    // The route: the answer holds secrets, so over the Unix socket only.
    const socket = join(home, 'paasmaker.sock');
    const answer = await post(socket, '/api/v1/environment', { directory: dir, command: true, service: 'notes' });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const parsed = ProjectEnvironmentSchema.parse(answer.json);
    expect(parsed).toMatchObject({ app: 'guest', directory: dir, shell: { command: expect.stringMatching(/sqlite3$/) }, command: { PAASMAKER_APP: 'guest', PAASMAKER_INSTANCE: 'web' } });
    expect(parsed.command!.PAASMAKER_OWNER).toBeUndefined();
    const tcp = { port: daemon.apiPort, token: await userToken(home, 'ops', 'developer') };
    expect(await post(socket, '/api/v1/environment', { directory: dir }, tcp)).toMatchObject({ status: 403, json: { code: 'FORBIDDEN' } });
    expect(await post(socket, '/api/v1/environment', { directory: 'relative' })).toMatchObject({ status: 400, json: { code: 'INVALID_REQUEST' } });
  }, 90_000);

  it('with a platform running, ps, jobs, stats, cron list and logs come from its API (state.db moved aside, they still answer) and logs -f follows its event stream', async () => {
    const dir = project('door');
    const home = daemonHome();
    expect((await runCli(['up', '-d', dir], { home })).exitCode).toBe(0);
    const { proxyPort } = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { proxyPort: number };
    expect(await getByHost(proxyPort, 'door.localhost', '/first')).toBe('ok');

    // Whatever reads the file itself now finds nothing; the daemon keeps its open database.
    const file = join(home, 'state.db');
    renameSync(file, `${file}.aside`);
    cleanups.push(() => renameSync(`${file}.aside`, file));
    expect((await json(['ps', '--json'], home, Processes)).map((row) => [row.app, row.instance, row.state])).toEqual([['door', 'web', 'running']]);
    const jobs = await json(['jobs', '--json'], home, Jobs);
    const up = jobs.find((job) => job.title === 'up door')!;
    expect(up).toMatchObject({ state: 'success' });
    expect(up.steps).toBeGreaterThan(0);
    const shown = await runCli(['jobs', 'show', up.id.slice(0, 6)], { home });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/up door success/);
    expect((await json(['cron', 'list', '--json'], home, Crons)).map((row) => row.name)).toEqual(['yearly']);
    const stats = await until(async () => (await json(['stats', '--json'], home, Traffic)).find((row) => row.app === 'door' && row.requests > 0), 10_000, 'the request in stats');
    expect(stats.instance).toBe('web');

    const recent = await runCli(['logs', 'door/web', '-n', '5'], { home });
    expect(recent.exitCode, recent.stderr).toBe(0);
    expect(recent.stdout).toMatch(/^web\.0\s+\| hit \/first$/m);
    const unknown = await runCli(['logs', 'door/nope'], { home });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('app "door" has no logs for "nope"');

    const follow = new CliProcess(['logs', 'door/web', '-f', '-n', '0'], { home });
    cleanups.push(() => follow.kill());
    // Until the stream is connected a request goes unseen: ask again until one shows.
    await until(async () => (await getByHost(proxyPort, 'door.localhost', '/second')) === 'ok' && /web\.0\s+\| hit \/second/.test(follow.output), 10_000, 'a new line on logs -f');
    expect(follow.output).not.toContain('hit /first');
    follow.signal('SIGINT');
    expect(await follow.wait()).toBe(0);
  }, 90_000);

  it('jobs abort and top with no platform running say exactly how to start one, and change nothing', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const dir = mkdtempSync(join(tmpdir(), 'pm-clients-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'paasmaker.yml'), 'application:\n  name: stuck\ninstances:\n  web:\n    prepare: ["echo preparing; sleep 30"]\n    command: node -e "setInterval(() => {}, 1000)"\n');
    const up = new CliProcess(['up', dir, '--no-watch'], { home });
    cleanups.push(() => up.kill());
    await up.waitForOutput('preparing');
    up.kill();
    await up.wait();
    const [job] = await json(['jobs', '--json'], home, Jobs);
    expect(job).toMatchObject({ title: 'up stuck', state: 'running' });
    const aborted = await runCli(['jobs', 'abort', job!.id], { home });
    expect(aborted.exitCode).toBe(1);
    expect(aborted.stderr).toContain(`no paasmaker runs here, so job ${job!.id} (up stuck) is not running`);
    expect(aborted.stderr).toContain('hint: start one with: paasmaker daemon start');
    expect((await json(['jobs', '--json'], home, Jobs))[0]).toMatchObject({ id: job!.id, state: 'running' });
    const top = await runCli(['top'], { home });
    expect(top.exitCode).toBe(1);
    expect(top.stderr).toContain('error: no paasmaker is running');
    expect(top.stderr).toContain('hint: start projects in the daemon with paasmaker up -d, or paasmaker daemon start');
  }, 60_000);
});
