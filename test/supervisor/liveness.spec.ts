import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor, type ProcessInfo, type ProcessState } from '../../src/supervisor/index.js';
import { alive, freePort, nextState, tmpDir, zooSpec } from '../helpers/processes.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup() {
  const { dir, cleanup } = tmpDir();
  const supervisor = new Supervisor({ backoff: { initialMs: 100, maxMs: 400, resetAfterMs: 60_000 } });
  const states: Array<[ProcessState, ProcessState]> = [];
  const unresponsive: Array<{ info: ProcessInfo; reason: string; at: number }> = [];
  supervisor.on('state', (info, previous) => states.push([previous, info.state]));
  supervisor.on('unresponsive', (info, reason) => unresponsive.push({ info, reason, at: Date.now() }));
  cleanups.push(async () => {
    await supervisor.stopAll();
    cleanup();
  });
  return { dir, supervisor, states, unresponsive };
}

const liveness = { timeout: 10, interval: 0.2, failures: 3 };

describe('Liveness', () => {
  for (const mode of ['hang', '503'] as const) {
    it(`a process whose health path ${mode === 'hang' ? 'stops answering' : 'answers 503'} is restarted within interval × failures, like a crash`, async () => {
      const { dir, supervisor, states, unresponsive } = setup();
      const port = await freePort();
      const spec = zooSpec(dir, 'stops-answering.mjs', { port, health: { path: '/healthz', ...liveness }, stopGraceMs: 1000, extraEnv: { STOP_MODE: mode } });
      supervisor.start(spec);
      const first = await nextState(supervisor, spec.id, 'running');
      const stuckAt = Date.now();
      process.kill(first.pid!, 'SIGUSR2');
      const back = await nextState(supervisor, spec.id, (info) => info.state === 'running' && info.pid !== first.pid);

      expect(unresponsive).toHaveLength(1);
      expect(unresponsive[0]!.reason).toBe('not answering /healthz (3 checks)');
      // 3 checks 0.2 s apart, each failing after at most 0.2 s: about 0.6 s (the margin is for a loaded machine).
      expect(unresponsive[0]!.at - stuckAt).toBeLessThan(0.6 * 1000 + 1500);
      expect(back.restarts).toBe(1);
      expect(alive(first.pid!)).toBe(false);
      expect(states).toContainEqual(['running', 'backoff']);
      expect(states).toContainEqual(['backoff', 'starting']);
      const log = readFileSync(spec.logFile, 'utf8');
      expect(log).toMatch(/ sys not answering \/healthz \(3 checks\); stopping it/);
      expect(log).toMatch(/ sys not answering \/healthz \(3 checks\); restarting in 100ms/);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello\n');
    });
  }

  it('without a health path, a process that stops accepting connections is restarted', async () => {
    const { dir, supervisor, unresponsive } = setup();
    const port = await freePort();
    const spec = zooSpec(dir, 'stops-answering.mjs', { port, health: liveness, stopGraceMs: 1000, extraEnv: { STOP_MODE: 'close' } });
    supervisor.start(spec);
    const first = await nextState(supervisor, spec.id, 'running');
    process.kill(first.pid!, 'SIGUSR2');
    const back = await nextState(supervisor, spec.id, (info) => info.state === 'running' && info.pid !== first.pid);
    expect(unresponsive.map((event) => event.reason)).toEqual([`not accepting connections on port ${port} (3 checks)`]);
    expect(back.restarts).toBe(1);
  });

  it('a process that ignores the stop signal is killed after its grace period and restarted', async () => {
    const { dir, supervisor } = setup();
    const port = await freePort();
    const spec = zooSpec(dir, 'stops-answering.mjs', { port, health: { path: '/healthz', ...liveness }, stopGraceMs: 300, extraEnv: { IGNORE_SIGTERM: '1' } });
    supervisor.start(spec);
    const first = await nextState(supervisor, spec.id, 'running');
    process.kill(first.pid!, 'SIGUSR2');
    const backoff = await nextState(supervisor, spec.id, 'backoff');
    expect(backoff.lastExit).toMatchObject({ signal: 'SIGKILL' });
    expect(readFileSync(spec.logFile, 'utf8')).toMatch(/ out ignoring SIGTERM/);
    await nextState(supervisor, spec.id, 'running');
  });

  it('a healthy process is never restarted by liveness', async () => {
    const { dir, supervisor, unresponsive } = setup();
    const port = await freePort();
    const spec = zooSpec(dir, 'stops-answering.mjs', { port, health: { path: '/healthz', timeout: 10, interval: 0.1, failures: 2 } });
    supervisor.start(spec);
    const first = await nextState(supervisor, spec.id, 'running');
    let served = 0;
    const deadline = Date.now() + 1500; // 15 intervals, with traffic beside the checks
    while (Date.now() < deadline) {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) served++;
    }
    expect(served).toBeGreaterThan(10);
    expect(unresponsive).toEqual([]);
    expect(supervisor.info(spec.id)).toMatchObject({ state: 'running', pid: first.pid, restarts: 0 });
    expect(readFileSync(spec.logFile, 'utf8')).not.toMatch(/not answering/);
  });

  it('liveness stops with the process: a stopped process is not checked, and a standalone one never', async () => {
    const { dir, supervisor, unresponsive } = setup();
    const port = await freePort();
    const spec = zooSpec(dir, 'stops-answering.mjs', { port, health: { path: '/healthz', ...liveness } });
    supervisor.start(spec);
    await nextState(supervisor, spec.id, 'running');
    await supervisor.stop(spec.id);
    const worker = zooSpec(dir, 'exits-zero.mjs', { id: 'test/worker.0', health: liveness, restart: 'never' });
    supervisor.start(worker);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(unresponsive).toEqual([]);
    expect(supervisor.info(spec.id)!.state).toBe('stopped');
  });
});
