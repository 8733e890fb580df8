import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { State } from '../../src/state/index.js';
import { tempHome } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function openState() {
  const { home, cleanup } = tempHome();
  const file = join(home, 'nested', 'state.db');
  const state = State.open(file);
  cleanups.push(() => {
    state.close();
    cleanup();
  });
  return { state, file, home };
}

describe('State', () => {
  it('creates the database in WAL mode, in a folder only its owner can read, and migrates once', () => {
    const { state, file } = openState();
    state.close();
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const versions = db.prepare('SELECT version FROM schema_migrations').all();
    db.close();
    const again = State.open(file);
    again.close();
    const db2 = new Database(file);
    expect(db2.prepare('SELECT version FROM schema_migrations').all()).toEqual(versions);
    db2.close();
  });

  it('a state.db that is a directory, or not a regular file, is refused with STATE_DAMAGED naming it; and what it points to is left as it was', () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const folder = join(home, 'state.db');
    mkdirSync(folder);
    expect(() => State.open(folder)).toThrow(expect.objectContaining({ code: 'STATE_DAMAGED', message: expect.stringContaining('is a directory') }));
    // A symbolic link (to a file someone keeps elsewhere): not a regular file.
    const elsewhere = join(home, 'elsewhere.db');
    writeFileSync(elsewhere, 'mine');
    const link = join(home, 'linked.db');
    symlinkSync(elsewhere, link);
    expect(() => State.open(link)).toThrow(expect.objectContaining({ code: 'STATE_DAMAGED', message: expect.stringContaining('is not a regular file') }));
    expect(readFileSync(elsewhere, 'utf8')).toBe('mine');
  });

  it('state.db and its -wal and -shm files are readable by their owner only (0600), and older ones are tightened when opened', () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const file = join(home, 'state.db');
    const state = State.open(file);
    state.apps.upsert({ name: 'shop', directory: '/p/shop', manifest: '/p/shop/paasmaker.yml', state: 'running', ownerPid: 1, ownerStart: '1' });
    for (const path of [file, `${file}-wal`, `${file}-shm`]) expect([path, statSync(path).mode & 0o777]).toEqual([path, 0o600]);
    state.close();
    // As an earlier Paasmaker left them: readable by everyone.
    const db = new Database(file);
    db.prepare('SELECT 1').get();
    for (const path of [file, `${file}-wal`, `${file}-shm`]) chmodSync(path, 0o644);
    const again = State.open(file);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) expect([path, statSync(path).mode & 0o777]).toEqual([path, 0o600]);
    again.close();
    db.close();
  });

  it('keeps apps, instances and process slots', () => {
    const { state } = openState();
    state.apps.upsert({ name: 'shop', directory: '/p/shop', manifest: '/p/shop/paasmaker.yml', state: 'running', ownerPid: 42, ownerStart: '99' });
    state.instances.replace('shop', [
      { app: 'shop', name: 'web', runtime: 'node', command: 'node s.js', quantity: 2, standalone: false },
      { app: 'shop', name: 'worker', runtime: 'shell', command: 'w', quantity: 1, standalone: true },
    ]);
    state.processes.put({ app: 'shop', instance: 'web', index: 1, state: 'running', pid: 7, port: 4000, restarts: 2, runningSince: 1000, exitCode: null, exitSignal: null });
    expect(state.apps.get('shop')).toMatchObject({ name: 'shop', state: 'running', ownerPid: 42, ownerStart: '99' });
    expect(state.apps.findByDirectory('/p/shop')?.name).toBe('shop');
    expect(state.instances.list('shop').map((i) => [i.name, i.standalone])).toEqual([
      ['web', false],
      ['worker', true],
    ]);
    expect(state.processes.list('shop')[0]).toMatchObject({ instance: 'web', index: 1, pid: 7, port: 4000, restarts: 2 });
    state.processes.markStopped('shop');
    state.apps.release('shop');
    expect(state.processes.list('shop')[0]).toMatchObject({ state: 'stopped', pid: null });
    expect(state.apps.get('shop')).toMatchObject({ state: 'stopped', ownerPid: null });
  });

  it('journals spawned processes until they are forgotten', () => {
    const { state } = openState();
    const entry = { pid: 123, pgid: 123, startTime: '555', processId: 'shop/web.0', app: 'shop', command: 'node s.js', port: 4000, ownerPid: 1, ownerStart: '2' };
    state.journal.record(entry);
    expect(state.journal.list()).toEqual([expect.objectContaining(entry)]);
    state.journal.forget(123);
    expect(state.journal.list()).toEqual([]);
  });

  it('remembers prepare fingerprints per instance', () => {
    const { state } = openState();
    expect(state.prepareRuns.fingerprint('shop', 'web')).toBeUndefined();
    state.prepareRuns.record('shop', 'web', 'abc');
    state.prepareRuns.record('shop', 'web', 'def');
    expect(state.prepareRuns.fingerprint('shop', 'web')).toBe('def');
  });
});

describe('State opened by several processes at once', () => {
  it('waits for the lock instead of failing (fresh file, six processes opening it 25 times each)', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const file = join(home, 'state.db');
    const { execa } = await import('execa');
    const script = `import { State } from ${JSON.stringify(join(process.cwd(), 'dist/src/state/index.js'))}; for (let i = 0; i < 25; i++) { const s = State.open(${JSON.stringify(file)}); s.apps.upsert({ name: 'a' + process.pid, directory: '/x', manifest: '/x/p.yml', state: 'running', ownerPid: process.pid, ownerStart: String(i) }); s.close(); }`;
    const runs = await Promise.all(Array.from({ length: 6 }, () => execa(process.execPath, ['--input-type=module', '-e', script], { reject: false })));
    for (const run of runs) expect(run.stderr).toBe('');
    expect(runs.map((run) => run.exitCode)).toEqual([0, 0, 0, 0, 0, 0]);
    const state = State.open(file);
    expect(state.apps.list()).toHaveLength(6);
    state.close();
  });
});
