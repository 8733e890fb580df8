import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listProcesses } from '../../src/engine/index.js';
import { State } from '../../src/state/index.js';
import { tempHome } from '../helpers/cli.js';

// What ps lists: the apps that run, and (with -a) the stopped ones until a
// week after they stopped, without the ports they no longer hold.

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const DAY = 24 * 3600 * 1000;

function stateWith(apps: Array<{ name: string; running: boolean }>): State {
  const { home, cleanup } = tempHome();
  const state = State.open(join(home, 'state.db'));
  cleanups.push(() => {
    state.close();
    cleanup();
  });
  for (const app of apps) {
    state.apps.upsert({ name: app.name, directory: `/src/${app.name}`, manifest: `/src/${app.name}/paasmaker.yml`, state: app.running ? 'running' : 'stopped', ownerPid: app.running ? process.pid : null, ownerStart: null });
    state.processes.put({ app: app.name, instance: 'web', index: 0, state: app.running ? 'running' : 'stopped', pid: app.running ? process.pid : null, port: 40_000, restarts: 0, runningSince: Date.now(), exitCode: null, exitSignal: null });
  }
  return state;
}

describe('listProcesses', () => {
  it('keeps a stopped app a week, without its old port, and leaves it out when asked for the running ones', () => {
    const state = stateWith([
      { name: 'live', running: true },
      { name: 'gone', running: false },
    ]);
    const list = (options: { running?: boolean; now?: number }) => listProcesses(state, { selfPid: process.pid, ...options }).map((row) => [row.app, row.state, row.port]);
    expect(list({})).toEqual([
      ['gone', 'stopped', null],
      ['live', 'running', 40_000],
    ]);
    expect(list({ running: true })).toEqual([['live', 'running', 40_000]]);
    expect(list({ now: Date.now() + 6 * DAY })).toEqual([
      ['gone', 'stopped', null],
      ['live', 'running', 40_000],
    ]);
    // Aged out after a week; an app that runs never is.
    expect(list({ now: Date.now() + 8 * DAY })).toEqual([['live', 'running', 40_000]]);
  });
});
