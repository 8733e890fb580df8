import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { processStartTime, reapLeftovers, startKeeper, type JournalEntry } from '../../src/supervisor/index.js';
import { alive, until, zoo } from '../helpers/processes.js';

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

  it('reports entries that are simply gone', async () => {
    const result = await reapLeftovers([entry(2 ** 22 - 3, '12345')]);
    expect(result.gone).toHaveLength(1);
  });
});

describe('the keeper', () => {
  it('kills registered groups, and marked processes that left them, when its pipe closes', async () => {
    const keeper = startKeeper({ ownerToken: 'tok-test-keeper' });
    const registered = await family();
    const marked = await family({ PAASMAKER_OWNER: 'tok-test-keeper' });
    const stranger = await family({ PAASMAKER_OWNER: 'someone-else' });
    keeper.add(registered.pid);
    keeper.close();
    await until(() => !alive(registered.pid) && !alive(registered.grandchild), 3000, 'the registered group to die');
    await until(() => !alive(marked.pid) && !alive(marked.grandchild), 3000, 'the marked processes to die');
    expect(alive(stranger.pid)).toBe(true);
    expect(alive(stranger.grandchild)).toBe(true);
  });

  it('forgets a group that was removed', async () => {
    const keeper = startKeeper();
    const kept = await family();
    const removed = await family();
    keeper.add(kept.pid);
    keeper.add(removed.pid);
    keeper.remove(removed.pid);
    keeper.close();
    await until(() => !alive(kept.pid), 3000, 'the registered group to die');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(alive(removed.pid)).toBe(true);
  });
});
