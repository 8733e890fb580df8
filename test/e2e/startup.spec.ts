import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { findBinary } from '../../src/services/binaries.js';
import { bin, CliProcess, getByHost, psJson, runCli, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';
import { freePort, tmpDir } from '../helpers/processes.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

/** A project in a temporary folder: one web process running `command`, given `timeout` seconds to become ready. */
function project(name: string, command: string, timeout: number): string {
  const { dir, cleanup } = tmpDir();
  cleanups.push(cleanup);
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${name}\ninstances:\n  web:\n    runtime: shell\n    command: ${JSON.stringify(command)}\n    health:\n      timeout: ${timeout}\n`);
  return dir;
}

function up(dir: string, home: string): CliProcess {
  const run = new CliProcess(['up', dir, '--no-tui', '--proxy-port', '0', '--no-watch'], { home });
  cleanups.push(() => run.kill());
  return run;
}

function setup(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  return home;
}

describe('honest start-up', () => {
  it('an app listening on a port of its own (not $PORT) is told to use $PORT and is never called up: up, its job, ps and the router agree', async () => {
    const home = setup();
    // A port written into the app, as apps written for one machine do; free now so this test collides with nothing.
    const fixed = await freePort();
    const dir = project('fixedport', `node -e "require('http').createServer((q, s) => s.end('hi')).listen(${fixed})"`, 1);
    const run = up(dir, home);

    await run.waitForOutput('fixedport is not up after');
    await run.waitForOutput(/hint: .+\n/);
    expect(run.output).toContain(`your app listens on ${fixed}, not on the port it is given: use the PORT environment variable ($PORT`);
    expect(run.output).toMatch(/web\.0 not ready after 1 s: nothing accepted connections on port \d+ \(it listens on [^)]*:\d+\); restarting in/);

    const [job] = JSON.parse((await runCli(['jobs', '--json'], { home })).stdout) as Array<{ title: string; state: string; detail: string }>;
    expect(job).toMatchObject({ title: 'up fixedport', state: 'failed' });
    expect(job!.detail).toContain(`web.0: your app listens on ${fixed}`);

    const [row] = await psJson(home);
    expect(row!.state).not.toBe('running');

    const router = Number(/open (?:https:\/\/\S+ \(or )?http:\/\/fixedport\.localhost:(\d+)\//.exec(run.output)![1]);
    const page = await getByHost(router, 'fixedport.localhost');
    expect(page).toMatch(/fixedport\/web is (backoff|starting)/);
    expect(page).toContain(`hint: your app listens on ${fixed}`);
    expect(page).not.toMatch(/within 30 s/);

    // It crash-loops: a second round of readiness fails too, and nothing ever calls it up.
    await run.waitForOutput(/restarting in 2s/, 15_000);
    expect(run.output).not.toMatch(/is up in/);
    run.signal('SIGINT');
    await run.wait();
  });

  it('an app slower to start than its health.timeout is told which health.timeout to set', async () => {
    const home = setup();
    const dir = project('slowstart', `node -e "setTimeout(() => require('http').createServer((q, s) => s.end('hi')).listen(process.env.PORT), 4000)"`, 1);
    const run = up(dir, home);
    await run.waitForOutput(/slowstart is not up after \d+ ms:\n.*\n.*hint: .+\n/);
    expect(run.output).toContain('web.0 not ready after 1 s: nothing accepted connections on port');
    expect(run.output).toContain('hint: it listened on no port within 1 s: if it starts slowly, give it longer with health.timeout: 2 (instances.web.health.timeout in paasmaker.yml)');
    expect(run.output).not.toMatch(/is up in/);
    run.signal('SIGINT');
    await run.wait();
  });

  it('an app that crashes before it listens is reported with its last lines (up -d)', async () => {
    const { home, cleanup } = tempHome();
    try {
      const dir = project('crashstart', `node -e "console.error('config missing: DATABASE_URL'); process.exit(3)"`, 5);
      const result = await runCli(['up', dir, '-d'], { home });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('crashstart is not up after');
      expect(result.stderr).toMatch(/web\.0 exited with code 3 before it listened on \$PORT; restarting in/);
      expect(result.stderr).toContain('    config missing: DATABASE_URL');
    } finally {
      await stopDaemonAndRemove(home, cleanup);
    }
  });

  it.skipIf(!findBinary(['tmux']))('the terminal UI tells the same: its status line says the start failed and why, never success', async () => {
    const home = setup();
    const fixed = await freePort();
    const dir = project('fixedtui', `node -e "require('http').createServer((q, s) => s.end('hi')).listen(${fixed})"`, 1);
    const socket = join(home, 'tmux.sock');
    const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
    cleanups.push(() => {
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
    });
    // A person's terminal: CI=true would turn the UI into plain lines.
    tmux('new-session', '-d', '-s', 'startup', '-x', '220', '-y', '30', `env -u CI PAASMAKER_HOME=${home} PAASMAKER_PROXY_PORT=0 PAASMAKER_DNS_PORT=0 PAASMAKER_TLS_PORT=0 ${bin} up ${dir} --no-watch; sleep 60`);
    const screen = () => tmux('capture-pane', '-p', '-t', 'startup');
    await until(() => screen().includes('up fixedtui: failed'), 15_000, 'the status line to tell the failed start');
    expect(screen()).toContain(`up fixedtui: failed — not up: web.0: your app listens on ${fixed}`);
    expect(screen()).not.toMatch(/up fixedtui: success/);
    tmux('send-keys', '-t', 'startup', 'q');
  });
});
