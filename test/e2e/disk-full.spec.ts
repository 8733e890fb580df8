import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callApi } from '../../src/api/client.js';
import { State } from '../../src/state/index.js';
import { CliProcess, runCli, sleep, until } from '../helpers/cli.js';
import { fillDisk, mountTmpfs } from '../helpers/tmpfs.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  // Last in, first out: processes stop before their disk is unmounted, even after a failure.
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch (error) {
      console.warn(`cleanup: ${(error as Error).message}`);
    }
  }
});

const probe = mountTmpfs(1);
if ('skip' in probe) console.warn(`skipping the full-disk fault tests: ${probe.skip}`);
else probe.unmount();

/** An app that logs every request and a line every 20 ms, so its log would grow all the time. */
function chattyApp(name = 'diskfull'): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-diskfull-app-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'server.mjs'),
    `import { createServer } from 'node:http';
let requests = 0;
let ticks = 0;
createServer((req, res) => { console.log('request ' + ++requests + ' ' + req.url); res.end('hello ' + requests + '\\n'); })
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
setInterval(() => console.log('tick ' + ++ticks + ' ' + 'x'.repeat(100)), 20);
process.on('SIGTERM', () => process.exit(0));
`,
  );
  writeFileSync(join(dir, 'paasmaker.yml'), `application: {name: ${name}}\ninstances:\n  web: {command: node server.mjs}\n`);
  return dir;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: 'diskfull.localhost' }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${path} within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf('skip' in probe)('a full disk under a running platform (PAASMAKER_HOME on a 20 MB tmpfs)', () => {
  it('requests are still answered, ps and doctor say the platform is degraded; once space is freed it clears by itself and the log says how many lines were lost', async () => {
    const disk = mountTmpfs(20) as { dir: string; unmount: () => void };
    cleanups.push(disk.unmount);
    const home = disk.dir;
    const up = new CliProcess(['up', chattyApp(), '--no-tui'], { home });
    cleanups.push(() => up.kill());
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/diskfull\.localhost:\d+\//, 30_000);
    const port = Number(/diskfull\.localhost:(\d+)/.exec(up.output)![1]);
    expect((await get(port, '/before')).status).toBe(200);
    const log = join(home, 'logs', 'diskfull', 'web.0.log');

    const filler = fillDisk(home);
    for (let i = 0; i < 20; i++) {
      const answer = await get(port, `/full-${i}`);
      expect(answer).toMatchObject({ status: 200, body: expect.stringMatching(/^hello \d+\n$/) });
      await sleep(50);
    }
    const ps = await until(async () => {
      const result = await runCli(['ps'], { home });
      return result.stdout.includes('degraded since') ? result : undefined;
    }, 10_000, 'ps to say the platform is degraded');
    expect(ps.exitCode).toBe(0);
    expect(ps.stdout.split('\n')[0]).toMatch(new RegExp(`^degraded since [\\d:]+ \\(paasmaker pid \\d+\\): the disk holding ${home} is full: .* could not be written \\((ENOSPC|SQLITE_FULL|SQLITE_IOERR\\w*)\\)`));
    expect(ps.stdout).toMatch(/diskfull\s+web\.0\s+running/);
    const socket = join(home, 'run', readdirSync(join(home, 'run')).find((name) => /^up-\d+\.sock$/.test(name))!);
    const status = await callApi<{ degraded: { reason: string; since: number } | null }>(socket, 'GET', '/api/v1/status');
    expect(status.degraded?.reason).toContain(`the disk holding ${home} is full`);
    const doctor = await runCli(['doctor'], { home });
    expect(doctor.exitCode, JSON.stringify({ out: doctor.stdout, err: doctor.stderr, message: doctor.message })).toBe(1);
    expect(doctor.stdout).toMatch(/✗ paasmaker \(pid \d+\) runs degraded: the disk holding/);
    expect(doctor.stdout).toContain(`fix: free space on ${home}`);
    expect(up.child.exitCode).toBeNull();
    expect(up.output).toContain('paasmaker | degraded: the disk holding');

    rmSync(filler);
    const freedAt = Date.now();
    await until(async () => !(await runCli(['ps'], { home })).stdout.includes('degraded'), 10_000, 'degraded mode to clear by itself');
    const clearedIn = Date.now() - freedAt;
    expect(clearedIn).toBeLessThan(5000);
    expect((await get(port, '/after')).status).toBe(200);
    const notice = await until(() => /^\S+ sys \[paasmaker\] (\d+) lines? lost while the disk was full$/m.exec(readFileSync(log, 'utf8')), 5000, 'the lines-lost line');
    expect(Number(notice[1])).toBeGreaterThan(0);
    const size = statSync(log).size;
    await until(() => statSync(log).size > size + 1000, 5000, 'the log to keep growing');
    const after = readFileSync(log, 'utf8');
    expect(after.slice(after.indexOf(notice[0]))).toMatch(/ out request \d+ \/after\n/);
    // What the router counted while the disk was full reached state.db once it had room.
    // The router flushes its counters once a second: the last request may still be in memory.
    const stats = await until(async () => {
      const rows = JSON.parse((await runCli(['stats', '--json'], { home })).stdout) as { requests: number }[];
      return rows[0]?.requests === 22 ? rows : undefined;
    }, 5000, 'stats to count all 22 requests').catch(async () => JSON.parse((await runCli(['stats', '--json'], { home })).stdout));
    expect(stats).toEqual([expect.objectContaining({ app: 'diskfull', requests: 22 })]);

    up.signal('SIGINT');
    expect(await up.wait(20_000)).toBe(130);
  }, 90_000);

  it('the daemon on a full disk: its apps answer, ps says degraded, the daemon lives on and its log tells when writing resumed', async () => {
    const disk = mountTmpfs(20) as { dir: string; unmount: () => void };
    cleanups.push(disk.unmount);
    const home = disk.dir;
    const started = await runCli(['up', '-d', chattyApp()], { home });
    expect(started.exitCode, started.stderr).toBe(0);
    const daemon = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { pid: number; proxyPort: number };
    cleanups.push(() => {
      try {
        process.kill(daemon.pid, 'SIGKILL');
      } catch {
        // stopped already
      }
    });
    const filler = fillDisk(home);
    for (let i = 0; i < 10; i++) expect((await get(daemon.proxyPort, `/full-${i}`)).status).toBe(200);
    await until(async () => (await runCli(['ps'], { home })).stdout.includes('degraded since'), 10_000, 'ps to say the daemon is degraded');
    expect((await runCli(['daemon', 'status'], { home })).stdout).toMatch(/degraded: the disk holding .* is full/);
    // A new app is refused while the disk is full (it could be neither recorded nor logged); the running one goes on.
    const refused = await runCli(['up', '-d', chattyApp('second')], { home });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/error: app "second" was not started: the disk holding .* is full/);
    expect(refused.stderr).toContain(`hint: free space on ${home}`);
    expect((await get(daemon.proxyPort, '/still')).status).toBe(200);
    rmSync(filler);
    await until(async () => !(await runCli(['ps'], { home })).stdout.includes('degraded'), 10_000, 'degraded mode to clear by itself');
    expect((await get(daemon.proxyPort, '/after')).status).toBe(200);
    await until(() => readFileSync(join(home, 'logs', 'daemon.log'), 'utf8').includes('the disk has room again'), 5000, 'the daemon log to say writing resumed');
    const stopped = await runCli(['daemon', 'stop'], { home });
    expect(stopped.exitCode, stopped.stderr).toBe(0);
  }, 90_000);

  it('an app stopped, and an app restarted and scaled down, while the disk was full: once it has room ps, jobs and state.db say so', async () => {
    const disk = mountTmpfs(20) as { dir: string; unmount: () => void };
    cleanups.push(disk.unmount);
    const home = disk.dir;
    for (const name of ['first', 'second']) {
      const started = await runCli(['up', '-d', chattyApp(name)], { home });
      expect(started.exitCode, started.stderr).toBe(0);
    }
    const scaled = await runCli(['scale', 'second/web=2'], { home });
    expect(scaled.exitCode, scaled.stderr).toBe(0);
    const daemon = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { pid: number };
    cleanups.push(() => {
      try {
        process.kill(daemon.pid, 'SIGKILL');
      } catch {
        // stopped already
      }
    });
    const filler = fillDisk(home);
    await until(async () => (await runCli(['ps'], { home })).stdout.includes('degraded since'), 10_000, 'ps to say the daemon is degraded');
    const down = await runCli(['down', 'first'], { home });
    expect(down.exitCode, down.stderr).toBe(0);
    const restart = await runCli(['restart', 'second'], { home });
    expect(restart.exitCode, restart.stderr).toBe(0);
    const scaledDown = await runCli(['scale', 'second/web=1'], { home });
    expect(scaledDown.exitCode, scaledDown.stderr).toBe(0);
    rmSync(filler);
    await until(async () => !(await runCli(['ps'], { home })).stdout.includes('degraded'), 10_000, 'degraded mode to clear by itself');

    const ps = JSON.parse((await runCli(['ps', '-a', '--json'], { home })).stdout) as Array<{ app: string; instance: string; index: number; state: string; pid: number | null }>;
    expect(ps.filter((row) => row.app === 'first')).toEqual([expect.objectContaining({ state: 'stopped', pid: null })]);
    expect(ps.filter((row) => row.app === 'second')).toEqual([expect.objectContaining({ instance: 'web', index: 0, state: 'running' })]);
    // Only processes that still run are remembered (to be reaped should the daemon die).
    const state = State.open(join(home, 'state.db'));
    const journal = state.journal.list();
    const instances = state.instances.list('second');
    state.close();
    expect(journal.filter((entry) => entry.app === 'first')).toEqual([]);
    expect(journal.filter((entry) => entry.app === 'second').map((entry) => entry.pid).sort()).toEqual(ps.filter((row) => row.app === 'second').map((row) => row.pid).sort());
    expect(instances).toEqual([expect.objectContaining({ name: 'web', quantity: 1 })]);
    const jobs = JSON.parse((await runCli(['jobs', '--json'], { home })).stdout) as Array<{ app: string; title: string; state: string }>;
    expect(jobs.filter((job) => job.app === 'second' && job.title === 'reload web')).toEqual([expect.objectContaining({ state: 'success' })]);
    expect(jobs.filter((job) => job.state === 'running' || job.state === 'new')).toEqual([]);
    const stopped = await runCli(['daemon', 'stop'], { home });
    expect(stopped.exitCode, stopped.stderr).toBe(0);
  }, 90_000);

  it('up and ps on a disk that is already full exit 1 saying which disk to free; no stack', async () => {
    const disk = mountTmpfs(4) as { dir: string; unmount: () => void };
    cleanups.push(disk.unmount);
    State.open(join(disk.dir, 'state.db')).close();
    fillDisk(disk.dir);
    const ps = await runCli(['ps'], { home: disk.dir });
    expect(ps.exitCode).toBe(1);
    expect(ps.stderr).toContain(`error: no space left to write the state database ${join(disk.dir, 'state.db')}`);
    expect(ps.stderr).toContain(`hint: free space on ${disk.dir}`);
    const result = await runCli(['up', chattyApp(), '--no-tui'], { home: disk.dir });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`error: no space left .*${disk.dir}`));
    expect(result.stderr).toContain(`hint: free space on ${disk.dir}`);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});
