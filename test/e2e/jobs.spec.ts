import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, runCli, tempHome, until } from '../helpers/cli.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A project whose prepare step takes a long time, so its job can be seen running. */
function slowProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-jobs-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'paasmaker.yml'), 'application:\n  name: slow\ninstances:\n  web:\n    prepare: ["echo preparing; sleep 30"]\n    command: node -e "require(\'http\').createServer((q, s) => s.end()).listen(process.env.PORT)"\n');
  return dir;
}

type JobRow = { id: string; title: string; state: string; steps: number; detail: string | null };
const jobs = async (home: string) => JSON.parse((await runCli(['jobs', '--json'], { home })).stdout) as JobRow[];

describe('jobs', () => {
  it('records up as a tree with a log; a running job can be aborted from another terminal', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const up = new CliProcess(['up', slowProject(), '--no-watch'], { home });
    cleanups.push(() => up.kill());
    await up.waitForOutput('preparing');
    const [root] = await jobs(home);
    expect(root).toMatchObject({ title: 'up slow', state: 'running' });
    const shown = await runCli(['jobs', 'show', root!.id], { home, env: { NO_COLOR: '1' } });
    expect(shown.stdout).toMatch(/up slow running/);
    expect(shown.stdout).toMatch(/ {2}prepare web running/);
    expect(shown.stdout).toContain('| preparing');
    const prepare = /prepare web running (\S+)/.exec(shown.stdout)![1]!;
    const aborted = await runCli(['jobs', 'abort', prepare], { home });
    expect(aborted.exitCode, aborted.stderr).toBe(0);
    expect(await up.wait(10_000)).toBe(1);
    const after = await runCli(['jobs', 'show', root!.id], { home });
    expect(after.stdout).toMatch(/prepare web aborted/);
    expect(after.stdout).toMatch(/up slow failed/);
  });

  it('marks the jobs of a killed paasmaker aborted, with the reason, at the next start', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const dir = slowProject();
    const up = new CliProcess(['up', dir, '--no-watch'], { home });
    cleanups.push(() => up.kill());
    await up.waitForOutput('preparing');
    up.kill();
    await until(async () => (await runCli(['env', dir], { home })).exitCode === 0, 10_000, 'a new platform to open');
    const [root] = await jobs(home);
    expect(root).toMatchObject({ title: 'up slow', state: 'aborted' });
    expect(root!.detail).toMatch(/paasmaker \(pid \d+\) stopped while it ran/);
  });
});
