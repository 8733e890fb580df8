import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

// The compiled program, as bin/paasmaker loads it (it reads its version from the package beside dist/).
const { buildProgram } = (await import(join(repoRoot, 'dist/src/cli/program.js'))) as typeof import('../../src/cli/program.js');
const { candidates } = (await import(join(repoRoot, 'dist/src/cli/commands/completion.js'))) as typeof import('../../src/cli/commands/completion.js');

// What TAB offers, word by word, from the program's commands and options
// (a home where no platform runs, so no names).

let home: string;
let previous: string | undefined;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'pm-complete-'));
  previous = process.env.PAASMAKER_HOME;
  process.env.PAASMAKER_HOME = home;
});
afterAll(() => {
  if (previous === undefined) delete process.env.PAASMAKER_HOME;
  else process.env.PAASMAKER_HOME = previous;
  rmSync(home, { recursive: true, force: true });
});

const tab = async (...words: string[]) => (await candidates(buildProgram(() => undefined), words)).map((line) => line.split('\t')[0]);

describe('completion candidates', () => {
  it('offers subcommands, hiding the hidden ones, and every command after help', async () => {
    expect(await tab('daemon', '')).toEqual(['start', 'stop', 'status', 'help']);
    expect(await tab('jobs', '')).toEqual(['show', 'abort']);
    expect(await tab('help', 're')).toEqual(['requests', 'restart']);
    expect(await tab('help', 'restart', '')).toEqual([]);
    expect(await tab('daemon', 'help', '')).toEqual(['start', 'stop', 'status']);
    expect(await tab('')).not.toContain('__complete');
  });

  it("offers a command's options, not the ones already given, and the short form typed whole", async () => {
    expect(await tab('logs', '--')).toEqual(['--follow', '--lines', '--since', '--timestamps', '--dir', '--help']);
    expect(await tab('logs', '-f', '--')).toEqual(['--lines', '--since', '--timestamps', '--dir', '--help']);
    expect(await tab('logs', '-n')).toEqual(['-n']);
    expect(await tab('-')).toEqual(['--version', '--help']);
  });

  it('asks the shell for folders where a folder goes, and nothing where a number goes', async () => {
    expect(await tab('up', '')).toEqual([':dirs']);
    expect(await tab('logs', '-C', '')).toEqual([':dirs']);
    expect(await tab('logs', '--dir', 'x')).toEqual([':dirs']);
    expect(await tab('logs', '-n', '')).toEqual([]);
    expect(await tab('logs', '-n', '5', 'web', '')).toEqual([]);
    expect(await tab('run', '.', '--', 'ps')).toEqual([':files']);
    expect(await tab('run', '.', '')).toEqual([]);
  });

  it('knows the db commands: dump, restore and snapshot with its own, and files where a dump goes', async () => {
    expect(await tab('db', '')).toEqual(['shell', 'query', 'describe', 'dump', 'restore', 'snapshot', 'snapshots', 'help']);
    expect(await tab('db', 'snapshot', '')).toEqual(['restore', 'rm']);
    expect(await tab('db', 'restore', '')).toEqual([':files']);
    expect(await tab('db', 'dump', '-o', '')).toEqual([':files']);
    expect(await tab('db', 'snapshot', 'restore', '--')).toEqual(['--dir', '--yes', '--help']);
  });
});
