import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';

// `paasmaker run` takes the command after `--` from the argv given to main,
// not from this process's own argv: main called in-process (as a test or an
// embedding does) runs what it was given.

const { main } = (await import(join(repoRoot, 'dist/src/cli/main.js'))) as typeof import('../../src/cli/main.js');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('run, called through main', () => {
  it('runs the words after -- even when the first is also a folder here', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(() => stopDaemonAndRemove(home, cleanup));
    // A daemon answers the environment, so this process opens no platform of its own.
    expect((await runCli(['daemon', 'start'], { home })).exitCode).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'pm-run-argv-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'paasmaker.yml'), 'application:\n  name: argv\ninstances:\n  web:\n    command: node -e "setInterval(() => {}, 1000)"\n');
    // Read as a folder, "node" would become DIR and "-e" the command.
    mkdirSync(join(dir, 'node'));
    const cwd = process.cwd();
    const previous = process.env.PAASMAKER_HOME;
    process.env.PAASMAKER_HOME = home;
    process.chdir(dir);
    cleanups.push(() => {
      process.chdir(cwd);
      if (previous === undefined) delete process.env.PAASMAKER_HOME;
      else process.env.PAASMAKER_HOME = previous;
    });
    expect(await main(['node', 'paasmaker', 'run', '--', 'node', '-e', 'process.exit(process.env.PAASMAKER_APP === "argv" ? 7 : 1)'])).toBe(7);
  });
});
