import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, descendants, runCli, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-cron-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function start(dir: string) {
  const { home, cleanup } = tempHome();
  const up = new CliProcess(['up', dir, '--no-watch'], { home });
  cleanups.push(async () => {
    up.signal('SIGINT');
    await up.wait(15_000).catch(() => up.kill());
    cleanup();
  });
  return { home, up };
}

/** A home whose daemon is stopped (and the home removed) after the test. */
function daemonHome(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(() => stopDaemonAndRemove(home, cleanup));
  return home;
}

function api(socketPath: string, method: string, path: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, headers: { host: 'localhost' } }, (res) => {
      let answer = '';
      res.on('data', (chunk) => (answer += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, json: answer ? JSON.parse(answer) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Checks live answers against the OpenAPI document the same platform serves. */
async function validator(socketPath: string) {
  const doc = (await api(socketPath, 'GET', '/api/v1/openapi.json')).json;
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ $id: 'paasmaker', components: doc.components });
  return (method: string, template: string, answer: unknown) => {
    const schema = JSON.parse(JSON.stringify(doc.paths[template][method.toLowerCase()].responses['200'].content['application/json'].schema).replace(/#\/components/g, 'paasmaker#/components'));
    expect(ajv.validate(schema, answer), `${method} ${template}: ${ajv.errorsText()}`).toBe(true);
  };
}

/** Pids of the processes whose command line holds the marker. */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

// Crons that never fire on their own in a test (once a year): only cron run starts them.
const YEARLY = (app: string, more = '') =>
  `application:\n  name: ${app}\ninstances:\n  web:\n    command: node server.js\n    crons:\n      - {name: sweep, schedule: "0 0 1 1 *", command: "sleep 1 && echo swept-$PAASMAKER_APP"}\n      - {name: tick, schedule: "0 0 1 1 *", uri: /tick}\n${more}`;

// Counts the requests to /tick in a file, so the test can see the cron's hits.
const COUNTER = "const fs = require('fs'); require('http').createServer((req, res) => { if (req.url === '/tick') fs.appendFileSync('ticks', req.headers.host + ' ' + req.headers['x-forwarded-proto'] + '\\n'); res.end('ok'); }).listen(process.env.PORT, '127.0.0.1');\n";

describe('crons and depends_on', () => {
  it('requests a uri cron through the router every second, runs command crons, and lists their outcomes', async () => {
    const dir = project({
      'server.js': COUNTER,
      'paasmaker.yml':
        'application:\n  name: clock\ninstances:\n  web:\n    command: node server.js\n    crons:\n      - {name: tick, schedule: "* * * * * *", uri: /tick}\n      - {name: stamp, schedule: "* * * * * *", command: "echo $PAASMAKER_APP >> stamps"}\n',
    });
    const { home, up } = start(dir);
    await up.waitForOutput(/clock is up/);
    await until(() => existsSync(join(dir, 'ticks')) && readFileSync(join(dir, 'ticks'), 'utf8').split('\n').filter(Boolean).length >= 2, 5000, 'two ticks');
    expect(readFileSync(join(dir, 'ticks'), 'utf8').split('\n')[0]).toBe('clock.localhost http'); // through the router, which adds X-Forwarded-Proto
    await until(() => existsSync(join(dir, 'stamps')), 5000, 'the command cron');
    expect(readFileSync(join(dir, 'stamps'), 'utf8').split('\n')[0]).toBe('clock');
    const list = JSON.parse((await runCli(['cron', 'list', '--json'], { home })).stdout) as Array<{ name: string; lastResult: string; nextRun: number }>;
    expect(list.find((row) => row.name === 'tick')).toMatchObject({ lastResult: 'ok' });
    expect(list.find((row) => row.name === 'stamp')).toMatchObject({ lastResult: 'ok' });
    const now = await runCli(['cron', 'run', 'stamp', '-C', dir], { home });
    expect(now.exitCode, now.stderr).toBe(0);
  });

  it('rejects a bad schedule with its position', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const dir = project({ 'paasmaker.yml': 'application:\n  name: clock\ninstances:\n  web:\n    command: node server.js\n    crons:\n      - {schedule: "every minute", uri: /tick}\n' });
    const result = await runCli(['up', dir], { home });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/paasmaker\.yml:7:\d+: instances\.web\.crons\[0\]\.schedule:/);
  });

  it('starts an instance after the instances it depends on are ready', async () => {
    const dir = project({
      'api.js': "setTimeout(() => require('http').createServer((q, s) => s.end('api')).listen(process.env.PORT, '127.0.0.1'), 600);\n",
      'web.js': "console.log('web starting'); require('http').createServer((q, s) => s.end('web')).listen(process.env.PORT, '127.0.0.1');\n",
      'paasmaker.yml': 'application:\n  name: ordered\ninstances:\n  web:\n    command: node web.js\n    depends_on: [api]\n  api:\n    command: node api.js\n',
    });
    const { up, home } = start(dir);
    await up.waitForOutput(/ordered is up/);
    const apiReady = up.output.indexOf('api.0 running on');
    const webStarts = up.output.indexOf('web starting');
    expect(apiReady).toBeGreaterThan(-1);
    expect(webStarts).toBeGreaterThan(apiReady);
    // Both start jobs are steps of the up job (web's waited for api's).
    const root = (JSON.parse((await runCli(['jobs', '--json'], { home })).stdout) as Array<{ id: string }>)[0]!;
    const tree = (await runCli(['jobs', 'show', root.id], { home })).stdout;
    expect(tree).toMatch(/^ {2}start web success/m);
    expect(tree).toMatch(/^ {2}start api success/m);
  });

  it('cron run reaches the daemon that runs the app: the job is the daemon\'s, the command runs under it, and the CLI starts no platform of its own', async () => {
    const home = daemonHome();
    const dir = project({ 'server.js': COUNTER, 'paasmaker.yml': YEARLY('chores') });
    const up = await runCli(['up', '-d', dir], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    const daemon = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { pid: number; socket: string };

    const run = new CliProcess(['cron', 'run', 'sweep', '-C', dir], { home });
    cleanups.push(() => run.kill());
    const [command] = await until(() => {
      const found = processesWith('swept-$PAASMAKER_APP');
      return found.length > 0 ? found : undefined;
    }, 10_000, 'the cron command running');
    // While the cron runs: its command is the daemon's child, the CLI has no child at all (no keeper, no platform).
    expect(await descendants(daemon.pid)).toContain(command);
    expect(await descendants(run.pid)).toEqual([]);
    expect(await run.wait(20_000), run.output).toBe(0);
    expect(run.output).toMatch(/^cron:sweep \| swept-chores$/m);
    expect(run.output).toMatch(/^cron sweep: ok \(exit code 0.*\) — job \S+$/m);
    expect(existsSync(join(home, 'run')) ? readdirSync(join(home, 'run')).filter((name) => name.startsWith('up-')) : []).toEqual([]);

    const jobs = JSON.parse((await runCli(['jobs', '--json'], { home })).stdout) as Array<{ title: string; state: string; ownerPid: number }>;
    expect(jobs.find((job) => job.title === 'cron sweep')).toMatchObject({ state: 'success', ownerPid: daemon.pid });

    // The same over the API, its answers valid against the OpenAPI document.
    const valid = await validator(daemon.socket);
    const tick = await api(daemon.socket, 'POST', '/api/v1/apps/chores/crons/tick/run');
    expect(tick.json).toMatchObject({ state: 'success', detail: expect.stringMatching(/^HTTP 200/) });
    valid('POST', '/api/v1/apps/{app}/crons/{name}/run', tick.json);
    // ?wait=0: the answer comes at once, with the job still running; the job tells the end.
    const started = await api(daemon.socket, 'POST', '/api/v1/apps/chores/crons/sweep/run?wait=0');
    expect(started.json).toMatchObject({ state: 'running', detail: null });
    valid('POST', '/api/v1/apps/{app}/crons/{name}/run', started.json);
    const ended = await until(async () => {
      const [job] = (await api(daemon.socket, 'GET', `/api/v1/jobs/${started.json.job}`)).json as Array<{ title: string; state: string }>;
      return job && ['success', 'failed', 'aborted'].includes(job.state) ? job : undefined;
    }, 10_000, 'the cron job ending');
    expect(ended).toMatchObject({ title: 'cron sweep', state: 'success' });
    // What the command printed is in its job's log, for whoever looks later (jobs log, the MCP server's job_log).
    const jobLog = await api(daemon.socket, 'GET', `/api/v1/jobs/${started.json.job}/log`);
    valid('GET', '/api/v1/jobs/{id}/log', jobLog.json);
    expect(jobLog.json).toEqual(expect.arrayContaining([expect.objectContaining({ stream: 'out', line: 'swept-chores' })]));
    const rows = await api(daemon.socket, 'GET', '/api/v1/crons');
    valid('GET', '/api/v1/crons', rows.json);
    expect(rows.json.map((row: { app: string; name: string; lastResult: string }) => [row.app, row.name, row.lastResult])).toEqual([['chores', 'sweep', 'ok'], ['chores', 'tick', 'ok']]);
    expect((await api(daemon.socket, 'GET', '/api/v1/crons?app=other')).json).toEqual([]);
    const list = JSON.parse((await runCli(['cron', 'list', '--json'], { home })).stdout);
    expect(list).toEqual(rows.json);
    expect(await api(daemon.socket, 'POST', '/api/v1/apps/chores/crons/nosuch/run')).toMatchObject({ status: 404, json: { code: 'CRON_NOT_FOUND', hint: 'crons: sweep, tick' } });
    expect(await api(daemon.socket, 'POST', '/api/v1/apps/nosuch/crons/sweep/run')).toMatchObject({ status: 404, json: { code: 'APP_NOT_FOUND' } });
    // `paasmaker cron run <TAB>` offers them, from the same route (waiting longer than a shell would: this machine may be busy).
    expect((await runCli(['__complete', 'cron', 'run', ''], { home, env: { PAASMAKER_COMPLETION_WAIT_MS: '5000' } })).stdout.split('\n')).toEqual(expect.arrayContaining(['sweep\tchores 0 0 1 1 *', 'tick\tchores 0 0 1 1 *']));
    const unknown = await runCli(['cron', 'run', 'nosuch', '-C', dir], { home });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/no cron "nosuch"/);
  });

  it('cron list answers the same rows from the daemon, from a foreground up and from state when nothing runs; cron run without a platform says how to start one, and with one follows a long cron to its end', async () => {
    const home = daemonHome();
    // slow outlasts the 10 s the API waits for an outcome: cron run follows its job on the event stream.
    const dir = project({ 'server.js': COUNTER, 'paasmaker.yml': YEARLY('errands', '      - {name: slow, schedule: "0 0 1 1 *", command: "sleep 11 && echo slow-done"}\n') });
    const listed = async () => {
      const result = await runCli(['cron', 'list', '--json'], { home });
      expect(result.exitCode, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    };

    const foreground = new CliProcess(['up', dir, '--no-watch'], { home });
    cleanups.push(() => foreground.kill());
    await foreground.waitForOutput(/errands is up/);
    const fromUp = await listed();
    expect(fromUp.map((row) => [row.app, row.name, row.schedule, row.target])).toEqual([
      ['errands', 'slow', '0 0 1 1 *', 'sleep 11 && echo slow-done'],
      ['errands', 'sweep', '0 0 1 1 *', 'sleep 1 && echo swept-$PAASMAKER_APP'],
      ['errands', 'tick', '0 0 1 1 *', 'GET /tick'],
    ]);
    foreground.signal('SIGINT');
    expect(await foreground.wait(15_000)).toBe(130);

    const jobs = async () => (JSON.parse((await runCli(['jobs', '--json'], { home })).stdout) as Array<{ id: string }>).map((job) => job.id);
    const before = await jobs();
    const none = await runCli(['cron', 'run', 'sweep', '-C', dir], { home });
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain(`app "errands" is not running (its crons run where the app runs)`);
    expect(none.stderr).toContain(`paasmaker up -d ${dir}`);
    expect(await jobs()).toEqual(before); // it ran nothing itself
    expect(await listed()).toEqual(fromUp);

    expect((await runCli(['up', '-d', dir], { home })).exitCode).toBe(0);
    expect(await listed()).toEqual(fromUp);

    const slow = await runCli(['cron', 'run', 'slow', '-C', dir], { home });
    expect(slow.exitCode, slow.stderr).toBe(0);
    expect(slow.stdout).toMatch(/^cron:slow \| slow-done$/m);
    expect(slow.stdout).toMatch(/^cron slow: ok \(exit code 0/m);
  }, 60_000);
});
