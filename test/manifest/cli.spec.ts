import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A project folder in a fresh PAASMAKER_HOME holding one manifest. */
function project(file: string, lines: string[]): { home: string; dir: string } {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  const dir = join(home, 'project');
  mkdirSync(dir);
  writeFileSync(join(dir, file), lines.join('\n') + '\n');
  return { home, dir };
}

const BOMB = ['x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...Array.from({ length: 8 }, (_, n) => `x${n + 1}: &x${n + 1} [${Array(10).fill(`*x${n}`).join(', ')}]`)];

describe('paasmaker up on a hostile or broken manifest: exit 1 with file:line:col, never a crash', () => {
  it('a billion-laughs paasmaker.yml exits 1 at the alias that crosses the limit (not 70)', async () => {
    const { home, dir } = project('paasmaker.yml', ['application: {name: bomb}', 'instances:', '  web: {command: node server.js}', ...BOMB]);
    const result = await runCli(['up', '.'], { home, cwd: dir });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/paasmaker\.yml:7:45: aliases repeat more than 10,000 values in this manifest/);
    expect(result.stderr).toMatch(/hint: use fewer aliases/);
    expect(result.stderr).not.toMatch(/ReferenceError|at .*\.js:\d+/);
  });

  it('the same bomb in the original manifest.yml is refused the same way', async () => {
    const { home, dir } = project('manifest.yml', ['manifest: {format: 1}', 'application: {name: bomb}', ...BOMB]);
    const result = await runCli(['up', '-d', '.'], { home, cwd: dir });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/manifest\.yml:6:45: aliases repeat more than 10,000 values/);
  });

  it('health: {path: "/health check"} is refused before anything starts, with a hint to percent-encode', async () => {
    const { home, dir } = project('paasmaker.yml', ['application: {name: spaced}', 'instances:', '  web:', '    command: node server.js', '    health: {path: "/health check"}']);
    const result = await runCli(['up', '-d', '.'], { home, cwd: dir });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/paasmaker\.yml:5:20: instances\.web\.health\.path must be a URL path: no spaces, control characters or "#" \(got "\/health check"\)/);
    expect(result.stderr).toMatch(/hint: .*a space is %20/);
  });
});
