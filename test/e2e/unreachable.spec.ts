import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, runCli, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';

// What the CLI says when the platform it needs is not there, or the job asked for does not exist.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function project(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-unreachable-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${name}\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('${name}')).listen(process.env.PORT, '127.0.0.1')"\n`);
  return dir;
}

function get(socketPath: string, path: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: 'localhost' } }, (res) => {
      let answer = '';
      res.on('data', (chunk) => (answer += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(answer) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a daemon that cannot be reached, and a job that does not exist', () => {
  it('jobs show nosuch exits 1 (404 JOB_NOT_FOUND over the API); after kill -9 of the daemon, scale and restart say no platform runs and how to start one, exit 1', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(() => stopDaemonAndRemove(home, cleanup));
    const up = await runCli(['up', '-d', project('lonely')], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    const socket = join(home, 'paasmaker.sock');

    const missing = await runCli(['jobs', 'show', 'nosuch'], { home, env: { NO_COLOR: '1' } });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('error: no job nosuch');
    expect(missing.stderr).toContain('hint: paasmaker jobs lists them');
    expect(await get(socket, '/api/v1/jobs/nosuch')).toMatchObject({ status: 404, json: { code: 'JOB_NOT_FOUND', error: 'no job nosuch' } });

    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { pid: number };
    const processes = (await get(socket, '/api/v1/processes')).json as Array<{ pid: number | null }>;
    process.kill(status.pid, 'SIGKILL');
    await until(() => !alive(status.pid) && processes.every((row) => row.pid === null || !alive(row.pid)), 5000, 'the daemon and its app to die');
    expect(existsSync(socket)).toBe(true);

    for (const args of [['scale', 'lonely/web=2'], ['restart', 'lonely']]) {
      const answer = await runCli(args, { home, env: { NO_COLOR: '1' } });
      expect(answer.exitCode, `${args.join(' ')}: ${answer.stderr}`).toBe(1);
      expect(answer.stderr, args.join(' ')).toMatch(/error: app "lonely" is not running: the paasmaker that ran it \(pid \d+\) is gone/);
      expect(answer.stderr, args.join(' ')).toContain('hint: start it with the daemon: paasmaker up -d');
    }
    // What was recorded can still be read without a platform.
    const jobs = JSON.parse((await runCli(['jobs', '--json'], { home })).stdout) as Array<{ id: string; title: string }>;
    const shown = await runCli(['jobs', 'show', jobs.find((job) => job.title === 'up lonely')!.id], { home, env: { NO_COLOR: '1' } });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/up lonely success/);
  });
});
