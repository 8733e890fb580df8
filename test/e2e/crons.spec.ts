import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, runCli, tempHome, until } from '../helpers/cli.js';

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
});
