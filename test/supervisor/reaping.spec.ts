import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { belongsTo, groupMembers, killGroup } from '../../src/supervisor/proc.js';
import { processStartTime, reapLeftovers, startKeeper, type JournalEntry } from '../../src/supervisor/index.js';
import { alive, tmpDir, until, zoo } from '../helpers/processes.js';

const groups: number[] = [];
afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** A process group like one Paasmaker starts: a parent and a grandchild, detached. */
function family(env: Record<string, string> = {}): Promise<{ pid: number; grandchild: number }> {
  const child = spawn(process.execPath, [join(zoo, 'forks-grandchild.mjs')], { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ...env } });
  groups.push(child.pid!);
  return new Promise((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /pid=(\d+) grandchild=(\d+)/.exec(chunk.toString());
      if (match) resolve({ pid: Number(match[1]), grandchild: Number(match[2]) });
    });
  });
}

/** A group that ignores SIGTERM, with a child that stays in it and one that left it (setsid); all three ignore SIGTERM. */
function stubbornFamily(env: Record<string, string> = {}): Promise<{ pid: number; child: number; escaped: number }> {
  const leader = spawn(process.execPath, [join(zoo, 'stubborn-family.mjs')], { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ...env } });
  groups.push(leader.pid!);
  return new Promise((resolve) => {
    leader.stdout!.on('data', (chunk: Buffer) => {
      const match = /pid=(\d+) child=(\d+) escaped=(\d+)/.exec(chunk.toString());
      if (match) {
        groups.push(Number(match[3]));
        resolve({ pid: Number(match[1]), child: Number(match[2]), escaped: Number(match[3]) });
      }
    });
  });
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Zombie processes whose group is pgid. */
function zombiesOf(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      const stat = readFileSafe(`/proc/${name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return fields[0] === 'Z' && Number(fields[2]) === pgid;
    })
    .map(Number);
}

// Owner tokens unique to this test process: a keeper's sweep in another run of these specs
// (the mutation check runs two at once) must neither kill this run's processes nor be mistaken for this one's.
const token = (name: string) => `tok-test-${name}-${process.pid}`;

const entry = (pid: number, startTime: string): JournalEntry => ({ id: 'test/web.0', pid, pgid: pid, startTime, command: 'node x' });

describe('reapLeftovers', () => {
  it('kills a leftover group whose leader still has the recorded start time', async () => {
    const { pid, grandchild } = await family();
    const result = await reapLeftovers([entry(pid, processStartTime(pid)!)]);
    expect(result.reaped).toHaveLength(1);
    await until(() => !alive(pid) && !alive(grandchild), 3000, 'the group to die');
  });

  it('never touches a pid whose start time differs (a recycled pid)', async () => {
    const result = await reapLeftovers([entry(process.pid, '1')]);
    expect(result.recycled).toHaveLength(1);
    expect(result.reaped).toHaveLength(0);
    expect(alive(process.pid)).toBe(true);
  });

  it('kills what is left of a group whose leader is gone', async () => {
    const { pid, grandchild } = await family();
    const startTime = processStartTime(pid)!;
    process.kill(pid, 'SIGKILL');
    await until(() => !alive(pid), 3000, 'the leader to die');
    expect(alive(grandchild)).toBe(true);
    const result = await reapLeftovers([entry(pid, startTime)]);
    expect(result.reaped).toHaveLength(1);
    await until(() => !alive(grandchild), 3000, 'the grandchild to die');
  });

  it('has the whole group dead by the time it resolves', async () => {
    const { pid, grandchild } = await family();
    await reapLeftovers([entry(pid, processStartTime(pid)!)]);
    expect(groupMembers(pid)).toEqual([]);
    expect(alive(pid) || alive(grandchild)).toBe(false);
  });

  it('kills a journaled process that is not its group leader alone, even one that ignores SIGTERM: the rest of its group is not ours to touch', async () => {
    const { pid, child } = await stubbornFamily();
    const result = await reapLeftovers([{ id: 'test/web.0', pid: child, pgid: pid, startTime: processStartTime(child)!, command: 'node x' }]);
    expect(result.reaped).toHaveLength(1);
    await until(() => !alive(child), 3000, 'the journaled process to die');
    expect(alive(pid)).toBe(true);
  });

  it('reports entries that are simply gone', async () => {
    const result = await reapLeftovers([entry(2 ** 22 - 3, '12345')]);
    expect(result.gone).toHaveLength(1);
  });
});

describe('process groups', () => {
  it('a group lists its live members only: not other groups, not a zombie', async () => {
    const { pid, grandchild } = await family();
    expect(groupMembers(pid).sort((a, b) => a - b)).toEqual([pid, grandchild].sort((a, b) => a - b));
    // sh execs into sleep, which never reaps the child that exited before it: a zombie in the group.
    const shell = spawn('/bin/sh', ['-c', '(exit 0) & exec sleep 30'], { detached: true, stdio: 'ignore' });
    groups.push(shell.pid!);
    await until(() => readFileSafe(`/proc/${shell.pid}/comm`).startsWith('sleep'), 3000, 'sh to exec sleep');
    await until(() => zombiesOf(shell.pid!).length === 1, 3000, 'the zombie');
    expect(groupMembers(shell.pid!)).toEqual([shell.pid]);
  });

  it('killGroup: SIGTERM, the grace, then SIGKILL for a group that ignores SIGTERM; it resolves once the group is empty', async () => {
    const stubborn = await stubbornFamily();
    const started = Date.now();
    await killGroup(stubborn.pid, 400);
    // The grace, then as long as the SIGKILL takes: not the 2 s it waits at most for a group stuck in the kernel.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(groupMembers(stubborn.pid)).toEqual([]);
    expect(alive(stubborn.pid) || alive(stubborn.child)).toBe(false);
  });

  it('killGroup: a group that ends on SIGTERM is not made to wait out the grace', async () => {
    const { pid } = await family();
    const started = Date.now();
    await killGroup(pid, 20_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(groupMembers(pid)).toEqual([]);
  });
});

describe('belongsTo (is the process on a port one of ours?)', () => {
  it('says yes for the root, a member of its group and one that left the group, no for a stranger or a pid that is gone', async () => {
    const ours = await stubbornFamily();
    expect(belongsTo(ours.pid, ours.pid)).toBe(true);
    expect(belongsTo(ours.child, ours.pid)).toBe(true);
    // setsid took it out of the group; it is still below the root.
    expect(belongsTo(ours.escaped, ours.pid)).toBe(true);
    const other = await family();
    expect(belongsTo(other.pid, ours.pid)).toBe(false);
    expect(belongsTo(other.grandchild, ours.pid)).toBe(false);
    expect(belongsTo(ours.escaped, other.pid)).toBe(false);
    expect(belongsTo(process.pid, ours.pid)).toBe(false);
    // The root's own parent is not below it.
    expect(belongsTo(process.pid, ours.escaped)).toBe(false);
    // A member whose parent is gone (reparented away from the root) still belongs by its group.
    const shell = spawn('sh', ['-c', 'sleep 30 & echo $!'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    groups.push(shell.pid!);
    const orphan = Number(await new Promise<string>((resolve) => shell.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
    await new Promise((resolve) => shell.once('exit', resolve));
    expect(belongsTo(orphan, shell.pid!)).toBe(true);
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => gone.once('exit', resolve));
    expect(belongsTo(gone.pid!, ours.pid)).toBe(false);
  });
});

describe('the keeper', () => {
  it('kills registered groups, and marked processes that left them, when its pipe closes', async () => {
    const keeper = startKeeper({ ownerToken: token('keeper') });
    const registered = await family();
    const marked = await family({ PAASMAKER_OWNER: token('keeper') });
    const stranger = await family({ PAASMAKER_OWNER: 'someone-else' });
    keeper.add(registered.pid);
    keeper.close();
    await until(() => !alive(registered.pid) && !alive(registered.grandchild), 3000, 'the registered group to die');
    await until(() => !alive(marked.pid) && !alive(marked.grandchild), 3000, 'the marked processes to die');
    // Once the keeper has finished its sweep, the process marked with another token is still there.
    await until(() => !alive(keeper.pid!), 3000, 'the keeper to exit');
    expect(alive(stranger.pid)).toBe(true);
    expect(alive(stranger.grandchild)).toBe(true);
  });

  it('SIGKILLs a registered group that ignores SIGTERM, and a marked process that left it ignoring SIGTERM too, within 2 s', async () => {
    const keeper = startKeeper({ ownerToken: token('stubborn') });
    // Registered but unmarked: only the KILL of the registered groups can end it.
    const registered = await stubbornFamily();
    // Marked but never registered: only the owner-token sweep can end it, and only with KILL.
    const marked = await stubbornFamily({ PAASMAKER_OWNER: token('stubborn') });
    keeper.add(registered.pid);
    const closedAt = Date.now();
    keeper.close();
    const pids = [registered.pid, registered.child, marked.pid, marked.child, marked.escaped];
    await until(() => pids.every((pid) => !alive(pid)), 2_000, 'every stubborn process to die');
    expect(Date.now() - closedAt).toBeLessThan(2_000);
    // The registered group's escaped child carries no marker: nothing may find it.
    expect(alive(registered.escaped)).toBe(true);
  });

  it('forgets a group that was removed, the first one registered as well as a later one', async () => {
    const keeper = startKeeper();
    const first = await family();
    const kept = await family();
    const last = await family();
    keeper.add(first.pid);
    keeper.add(kept.pid);
    keeper.add(last.pid);
    keeper.remove(first.pid);
    keeper.remove(last.pid);
    keeper.close();
    await until(() => !alive(kept.pid), 3000, 'the registered group to die');
    // The keeper has done all it will do once it exits.
    await until(() => !alive(keeper.pid!), 3000, 'the keeper to exit');
    expect(alive(first.pid)).toBe(true);
    expect(alive(last.pid)).toBe(true);
  });

  it('sends SIGTERM first and waits: an app that takes 300 ms to shut down cleanly gets to finish', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const done = join(dir, 'shut-down-cleanly');
      const script = `process.on('SIGTERM', () => setTimeout(() => { require('fs').writeFileSync(${JSON.stringify(done)}, 'yes'); process.exit(0); }, 300)); console.log('ready'); setInterval(() => {}, 1000)`;
      const app = spawn(process.execPath, ['-e', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
      groups.push(app.pid!);
      await new Promise((resolve) => app.stdout!.once('data', resolve));
      const keeper = startKeeper();
      keeper.add(app.pid!);
      keeper.close();
      await until(() => !alive(app.pid!), 3000, 'the app to exit');
      expect(existsSync(done)).toBe(true);
    } finally {
      cleanup();
    }
  });

  it('outlives the signals a terminal or a stray kill sends it (TERM, INT, HUP, QUIT), and still takes the groups down', async () => {
    const keeper = startKeeper();
    const registered = await family();
    keeper.add(registered.pid);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const) process.kill(keeper.pid!, signal);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(alive(keeper.pid!)).toBe(true);
    keeper.close();
    await until(() => !alive(registered.pid) && !alive(registered.grandchild), 3000, 'the registered group to die');
  });
});
