import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor, type ProcessState } from '../../src/supervisor/index.js';
import { alive, freePort, loggedPids, nextState, tmpDir, until, zooSpec } from '../helpers/processes.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(options: ConstructorParameters<typeof Supervisor>[0] = {}) {
  const { dir, cleanup } = tmpDir();
  const supervisor = new Supervisor({ backoff: { initialMs: 100, maxMs: 400, resetAfterMs: 60_000 }, ...options });
  const states: Array<[string, ProcessState]> = [];
  supervisor.on('state', (info) => states.push([info.id, info.state]));
  cleanups.push(async () => {
    await supervisor.stopAll();
    cleanup();
  });
  return { dir, supervisor, states };
}

describe('Supervisor', () => {
  it('is running only once the port accepts connections', async () => {
    const { dir, supervisor } = setup();
    const port = await freePort();
    const spec = zooSpec(dir, 'http-hello.mjs', { port });
    supervisor.start(spec);
    expect(supervisor.info(spec.id)!.state).toBe('starting');
    const info = await nextState(supervisor, spec.id, 'running');
    expect(info.port).toBe(port);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello\n');
    // exec'd by the shell: the supervised pid is node itself
    expect(loggedPids(spec.logFile)).toContain(info.pid);
  });

  it('waits for a health path to answer below 500', async () => {
    const { dir, supervisor } = setup();
    const port = await freePort();
    const spec = zooSpec(dir, 'health-slow.mjs', { port, health: { path: '/healthz', timeout: 10 }, extraEnv: { SLOW_MS: '600' } });
    const started = Date.now();
    supervisor.start(spec);
    await nextState(supervisor, spec.id, 'running');
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('restarts a crashing process with a doubling backoff, capped', async () => {
    const { dir, supervisor } = setup();
    const spec = zooSpec(dir, 'crashes-on-start.mjs');
    const backoffs: number[] = [];
    supervisor.on('state', (info) => {
      if (info.id === spec.id && info.state === 'backoff') backoffs.push(info.nextRestartAt! - Date.now());
    });
    supervisor.start(spec);
    await until(() => backoffs.length >= 5, 10_000, 'five backoffs');
    const rounded = backoffs.slice(0, 5).map((ms) => Math.round(ms / 100) * 100);
    expect(rounded).toEqual([100, 200, 400, 400, 400]);
    expect(supervisor.info(spec.id)!.restarts).toBeGreaterThanOrEqual(4);
    expect(supervisor.info(spec.id)!.lastExit).toMatchObject({ code: 1, signal: null });
    const log = readFileSync(spec.logFile, 'utf8');
    expect(log).toMatch(/ err pid=\d+ crashing/);
    expect(log).toMatch(/ sys exited with code 1; restarting in 100ms/);
  });

  it('resets the backoff after a stretch of health', async () => {
    const { dir, supervisor } = setup({ backoff: { initialMs: 100, maxMs: 1000, resetAfterMs: 300 } });
    const spec = zooSpec(dir, 'forks-grandchild.mjs', { extraEnv: { CRASH_AFTER_MS: '500' } });
    const delays: number[] = [];
    supervisor.on('state', (info) => {
      if (info.id === spec.id && info.state === 'backoff') delays.push(Math.round((info.nextRestartAt! - Date.now()) / 100) * 100);
    });
    supervisor.start(spec);
    await until(() => delays.length >= 3, 10_000, 'three crashes');
    // Each run lasted longer than resetAfterMs, so every restart waits the initial delay.
    expect(delays.slice(0, 3)).toEqual([100, 100, 100]);
  });

  it('a process that never listens fails readiness and is restarted', async () => {
    const { dir, supervisor } = setup();
    const port = await freePort();
    const spec = zooSpec(dir, 'never-listens.mjs', { port, health: { timeout: 0.5 } });
    supervisor.start(spec);
    const info = await nextState(supervisor, spec.id, 'backoff');
    expect(info.lastExit?.signal).toBe('SIGKILL');
    // The log is written asynchronously, behind the process's own lines: the line may land just after the state does.
    await until(() => /not ready after 0\.5 s/.test(readFileSync(spec.logFile, 'utf8')), 5000, 'the readiness line in the log');
    expect(readFileSync(spec.logFile, 'utf8')).toMatch(/not ready after 0\.5 s: nothing accepted connections on port/);
  });

  it('is not ready while another program holds its port, and says which', async () => {
    const { dir, supervisor } = setup();
    // The port was free when chosen; another program took it before the process started.
    const stranger = createServer((socket) => {
      socket.on('error', () => undefined); // the readiness probe hangs up as soon as it connects
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nstranger');
    });
    await new Promise<void>((resolve) => stranger.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => stranger.close(() => resolve())));
    const port = (stranger.address() as AddressInfo).port;
    const spec = zooSpec(dir, 'never-listens.mjs', { port, health: { timeout: 0.5 } });
    supervisor.start(spec);
    const info = await nextState(supervisor, spec.id, 'backoff');
    expect(info.lastExit?.signal).toBe('SIGKILL');
    expect(readFileSync(spec.logFile, 'utf8')).toMatch(new RegExp(`not ready after 0\\.5 s: port ${port} is held by another program \\(pid ${process.pid}: `));
  });

  it('stops with SIGTERM, then SIGKILL after the grace period', async () => {
    const { dir, supervisor } = setup();
    const spec = zooSpec(dir, 'ignores-sigterm.mjs', { stopGraceMs: 400 });
    supervisor.start(spec);
    expect(supervisor.info(spec.id)!.state).toBe('running'); // no port: running once spawned
    await until(() => loggedPids(spec.logFile).length > 0, 5000, 'pid line');
    const pid = loggedPids(spec.logFile)[0]!;
    const started = Date.now();
    await supervisor.stop(spec.id);
    const took = Date.now() - started;
    expect(alive(pid)).toBe(false);
    expect(took).toBeGreaterThanOrEqual(380);
    expect(supervisor.info(spec.id)!.state).toBe('stopped');
    expect(readFileSync(spec.logFile, 'utf8')).toContain('ignoring SIGTERM');
  });

  it('kills the grandchild when its parent crashes, and on stop', async () => {
    const { dir, supervisor } = setup({ backoff: { initialMs: 5000, maxMs: 5000, resetAfterMs: 60_000 } });
    const crashing = zooSpec(dir, 'forks-grandchild.mjs', { id: 'test/crash.0', logFile: `${dir}/crash.log`, extraEnv: { CRASH_AFTER_MS: '300' } });
    supervisor.start(crashing);
    await nextState(supervisor, crashing.id, 'backoff');
    const [orphan] = loggedPids(crashing.logFile, 'grandchild');
    expect(orphan).toBeGreaterThan(0);
    await until(() => !alive(orphan!), 2000, 'the grandchild of a crashed process to die');

    const port = await freePort();
    const steady = zooSpec(dir, 'forks-grandchild.mjs', { id: 'test/steady.0', port, logFile: `${dir}/steady.log` });
    supervisor.start(steady);
    await nextState(supervisor, steady.id, 'running');
    await until(() => loggedPids(steady.logFile, 'grandchild').length > 0, 5000, 'grandchild pid');
    const [grandchild] = loggedPids(steady.logFile, 'grandchild');
    await supervisor.stop(steady.id);
    expect(alive(grandchild!)).toBe(false);
  });

  it('loses no line of a process that prints 100,000 lines fast', async () => {
    const { dir, supervisor } = setup();
    const spec = zooSpec(dir, 'prints-fast.mjs', { restart: 'never' });
    spec.command += ' 100000';
    let events = 0;
    supervisor.on('line', (line) => {
      if (line.id === spec.id && line.stream === 'out') events++;
    });
    supervisor.start(spec);
    await nextState(supervisor, spec.id, 'exited', 30_000);
    await supervisor.stop(spec.id); // flushes the log file
    const lines = readFileSync(spec.logFile, 'utf8').split('\n').filter((line) => line.includes(' out line '));
    expect(lines).toHaveLength(100_000);
    expect(events).toBe(100_000);
    expect(lines[0]).toMatch(/ out line 1$/);
    expect(lines[99_999]).toMatch(/ out line 100000$/);
    const numbers = lines.map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
  });

  it('a clean exit with restart "on-failure" ends exited and stays; a failing startup command is a failed start', async () => {
    const { dir, supervisor, states } = setup();
    const clean = zooSpec(dir, 'exits-zero.mjs', { restart: 'on-failure' });
    supervisor.start(clean);
    await nextState(supervisor, clean.id, 'exited');
    await new Promise((resolve) => setTimeout(resolve, 400)); // longer than the first backoff
    expect(supervisor.info(clean.id)).toMatchObject({ state: 'exited', restarts: 0, lastExit: { code: 0, reason: 'exited with code 0' } });
    expect(states.filter(([id]) => id === clean.id).map(([, state]) => state)).toEqual(['starting', 'running', 'exited']);

    const port = await freePort();
    const migrating = zooSpec(dir, 'http-hello.mjs', { id: 'test/migrate.0', port, startup: ['echo migrating', 'exit 4'], restart: 'never', logFile: `${dir}/migrate.log` });
    supervisor.start(migrating);
    const info = await nextState(supervisor, migrating.id, 'crashed');
    expect(info.lastExit?.code).toBe(4);
    await supervisor.stop(migrating.id); // flushes the log file
    const log = readFileSync(migrating.logFile, 'utf8');
    expect(log).toContain(' out migrating');
    expect(log).toMatch(/startup command failed \(exit code 4\)/);
  });

  it('max_restarts: a process failing that many restarts in a row ends crashed and stays so', async () => {
    const { dir, supervisor, states } = setup();
    const spec = zooSpec(dir, 'crashes-on-start.mjs', { restart: 'on-failure', maxRestarts: 2 });
    supervisor.start(spec);
    const info = await nextState(supervisor, spec.id, 'crashed', 10_000);
    expect(info).toMatchObject({ restarts: 2, lastExit: { code: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 600)); // past the longest backoff
    expect(supervisor.info(spec.id)!.state).toBe('crashed');
    expect(states.filter(([id, state]) => id === spec.id && state === 'starting')).toHaveLength(3);
    expect(supervisor.tail(spec.id, 5).map((line) => line.line)).toContain('exited with code 1; not restarting: 2 restarts in a row (max_restarts)');
  });

  it('restart "always" restarts a clean exit too', async () => {
    const { dir, supervisor } = setup();
    const spec = zooSpec(dir, 'exits-zero.mjs', { restart: 'always' });
    supervisor.start(spec);
    await nextState(supervisor, spec.id, (info) => info.restarts >= 2 && info.state === 'running', 10_000);
    expect(supervisor.info(spec.id)!.lastExit).toMatchObject({ code: 0 });
  });
});
