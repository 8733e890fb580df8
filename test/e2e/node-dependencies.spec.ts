import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, getByHost, repoRoot, tempHome } from '../helpers/cli.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The fixture copied as a clone would be: package.json and package-lock.json, no node_modules. */
function clone(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-node-deps-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(repoRoot, 'test', 'fixtures', 'projects', 'node-deps'), dir, { recursive: true });
  return dir;
}

/** `up --no-tui` in the folder until its router URL is printed; stopped (Ctrl-C) by the returned function. */
async function up(dir: string, home: string, until: RegExp) {
  const process = new CliProcess(['up', dir, '--no-tui', '--no-watch'], { home });
  const stop = async () => {
    process.signal('SIGINT');
    await process.wait(15_000).catch(() => process.kill());
  };
  cleanups.push(stop);
  await process.waitForOutput(until, 120_000);
  return { process, stop };
}

const routerPort = (output: string) => Number(/open (?:https:\/\/\S+ \(or )?http:\/\/node-deps\.localhost:(\d+)\//.exec(output)![1]);

describe('a Node project cloned without node_modules', () => {
  it('starts with paasmaker up: npm ci runs by itself, the app answers through the router, and the next up installs nothing', async () => {
    const dir = clone();
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const first = await up(dir, home, /open (?:https:\/\/\S+ \(or )?http:\/\/node-deps\.localhost:\d+\//);
    expect(first.process.output).toContain('|| npm ci');
    expect(first.process.output).not.toContain('Cannot find module');
    expect(await getByHost(routerPort(first.process.output), 'node-deps.localhost')).toBe('one minute is 1m\n');
    expect(existsSync(join(dir, 'node_modules', 'ms', 'package.json'))).toBe(true);
    await first.stop();

    // The run after an install finds it done (the step skips itself); the one after that does not even run it.
    for (let run = 0; run < 2; run++) {
      const again = await up(dir, home, /node-deps is up/);
      expect(again.process.output).not.toMatch(/added \d+ package/);
      if (run === 1) expect(again.process.output).toContain('prepare web: up to date');
      await again.stop();
    }

    // A deleted node_modules (same lockfile) is installed again.
    rmSync(join(dir, 'node_modules'), { recursive: true });
    const after = await up(dir, home, /open (?:https:\/\/\S+ \(or )?http:\/\/node-deps\.localhost:\d+\//);
    expect(after.process.output).toMatch(/added 1 package/);
    expect(await getByHost(routerPort(after.process.output), 'node-deps.localhost')).toBe('one minute is 1m\n');
  }, 240_000);

  it('a module required but never declared: the crash report says which, and how to add it', async () => {
    const dir = clone();
    writeFileSync(join(dir, 'package.json'), '{ "name": "node-deps", "private": true }\n');
    rmSync(join(dir, 'package-lock.json'));
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const run = await up(dir, home, /node-deps is not up/);
    await run.process.waitForOutput(/hint:/);
    expect(run.process.output).toContain("Cannot find module 'ms'");
    expect(run.process.output).toContain('hint: "ms" is not a dependency in package.json: add it with `npm install ms`');
  }, 60_000);
});
