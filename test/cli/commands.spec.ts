import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

// Each command is one file that declares itself; the program is built from
// the list of them, and building it loads nothing heavy.

const { commands } = (await import(join(repoRoot, 'dist/src/cli/commands/index.js'))) as typeof import('../../src/cli/commands/index.js');
const { buildProgram } = (await import(join(repoRoot, 'dist/src/cli/program.js'))) as typeof import('../../src/cli/program.js');

describe('commands as files', () => {
  it('registers every command file, each with a description, and examples for every visible command that runs', () => {
    const files = readdirSync(join(repoRoot, 'src/cli/commands')).filter((file) => file !== 'index.ts');
    const runnable = commands.filter((command) => command.run);
    expect(runnable.length).toBe(files.length);
    for (const command of commands) expect(command.description, command.name).not.toBe('');
    for (const command of runnable.filter((candidate) => !candidate.hidden)) expect(command.examples?.length ?? 0, `${command.name} has no examples`).toBeGreaterThan(0);

    // What the user types reaches the command named.
    const program = buildProgram(() => undefined, []);
    for (const command of commands) {
      let found = program;
      for (const word of command.name.split(' ')) found = found.commands.find((candidate) => candidate.name() === word)!;
      expect(found?.description(), command.name).toBe(command.description);
    }
  });

  it('shows the declared examples in a command\'s help', async () => {
    const help = await execa('node', [join(repoRoot, 'bin/paasmaker'), 'services', 'destroy', '--help']);
    expect(help.stdout).toContain('Examples:\n  $ paasmaker services destroy shop/db');
  });

  it('loads neither the state database driver nor the manifest reader to build the program', async () => {
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(join(repoRoot, 'dist/src/cli/program.js'))}).then(({ buildProgram }) => buildProgram(() => undefined, []));
      console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
    const loaded = JSON.parse((await execa('node', ['--input-type=module', '-e', script])).stdout) as string[];
    expect(loaded.some((file) => file.includes('/commander/'))).toBe(true); // the check sees what is loaded
    expect(loaded.filter((file) => /\/node_modules\/(better-sqlite3|yaml)\//.test(file))).toEqual([]);
  });

  it('--version loads no zod: the limits a command names live apart from the answers\' schemas', async () => {
    // Every module the ESM loader resolves, told on stderr by a resolve hook.
    const dir = mkdtempSync(join(tmpdir(), 'pm-loads-'));
    try {
      writeFileSync(join(dir, 'hooks.mjs'), `export async function resolve(specifier, context, next) { const found = await next(specifier, context); process.stderr.write('resolved ' + found.url + '\\n'); return found; }\n`);
      writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
      // dist/src's main, module by module (bin/paasmaker runs the bundle, which resolves no package).
      const script = `const { main } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'dist/src/cli/main.js')).href)}); process.exitCode = await main(['node', 'paasmaker', '--version']);`;
      const run = await execa('node', ['--import', pathToFileURL(join(dir, 'register.mjs')).href, '--input-type=module', '-e', script]);
      expect(run.stdout).toMatch(/^\d+\.\d+\.\d+/);
      const resolved = run.stderr.split('\n').filter((line) => line.startsWith('resolved '));
      expect(resolved.some((line) => line.includes('/commander/'))).toBe(true); // the hook sees what is loaded
      expect(resolved.filter((line) => /\/node_modules\/(zod|yaml|better-sqlite3)\//.test(line))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
