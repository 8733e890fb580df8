import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, alive, psJson, runCli, sleep, tempHome, until } from '../helpers/cli.js';
import { zoo } from '../helpers/processes.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An app that answers /healthz until it gets SIGUSR2, then answers 503 while its process stays alive. */
function stuckProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-liveness-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'paasmaker.yml'),
    [
      'application: {name: stuck}',
      'instances:',
      '  web:',
      `    command: node ${join(zoo, 'stops-answering.mjs')}`,
      '    environment: {STOP_MODE: "503"}',
      '    health: {path: /healthz, interval: 0.2, failures: 3}',
      '    stop_timeout: 1',
      '',
    ].join('\n'),
  );
  return dir;
}

type JobRow = { id: string; title: string; state: string; detail: string | null };
const jobs = async (home: string) => JSON.parse((await runCli(['jobs', '--json'], { home })).stdout) as JobRow[];

/** The stuck project up in the foreground, in a home of its own: its process as ps lists it once it is up. */
async function upStuck() {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  const up = new CliProcess(['up', stuckProject(), '--no-watch'], { home });
  cleanups.push(() => up.kill());
  await up.waitForOutput('stuck is up');
  const [before] = await psJson(home);
  return { home, up, before };
}

describe('liveness', () => {
  it('an app that stops answering its health path is restarted, shown by ps and as a job', async () => {
    const { home, up, before } = await upStuck();
    expect(before).toMatchObject({ app: 'stuck', instance: 'web', state: 'running', restarts: 0 });

    const stuckAt = Date.now();
    process.kill(before!.pid!, 'SIGUSR2');
    const after = await until(async () => (await psJson(home)).find((row) => row.state === 'running' && row.restarts === 1), 15_000, 'web.0 running again');
    const took = Date.now() - stuckAt;
    // 3 checks 0.2 s apart, the 1 s first backoff, a start: about 2 s.
    expect(took).toBeLessThan(8000);
    expect(after.pid).not.toBe(before!.pid);
    expect(alive(before!.pid!)).toBe(false);

    const job = await until(async () => (await jobs(home)).find((row) => row.title.startsWith('restart web.0') && row.state !== 'running'), 5000, 'the restart job');
    expect(job).toMatchObject({ title: 'restart web.0: not answering /healthz (3 checks)', state: 'success' });
    expect(job.detail).toMatch(/^running again as pid \d+ after \d+\.\d s$/);
    const shown = await runCli(['jobs', 'show', job.id], { home });
    expect(shown.stdout).toContain(`pid ${before!.pid} stopped answering`);
    expect(up.output).toMatch(/not answering \/healthz \(3 checks\); restarting in 1s/);
    console.log(`liveness: running again ${took} ms after the app stopped answering`);
  });

  it('a healthy app is left alone by liveness', async () => {
    const { home, before } = await upStuck();
    await sleep(2000); // ten intervals
    const [after] = await psJson(home);
    expect(after).toMatchObject({ state: 'running', restarts: 0, pid: before!.pid });
    expect((await jobs(home)).map((row) => row.title)).toEqual(['up stuck']);
  });
});
