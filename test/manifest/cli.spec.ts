import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempHome } from '../helpers/cli.js';

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
    expect(result.stderr).toMatch(/paasmaker\.yml:7:45: aliases repeat more than 10,000 values in this file/);
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

describe('the daemon reads large manifests off its event loop', () => {
  it('an 18,000-key manifest read by loadManifestAsync keeps timers running (stalls under a third of a synchronous read), and its errors stay positioned', async () => {
    // The compiled module: the worker thread runs dist/src/manifest/read-worker.js.
    const compiled = (await import(join(repoRoot, 'dist', 'src', 'manifest', 'index.js'))) as typeof import('../../src/manifest/index.js');
    const rows = ['application: {name: big}', 'instances:', '  web:', '    command: node server.js', '    environment:', ...Array.from({ length: 18_000 }, (_, i) => `      KEY_${i}: value-${i}`)];
    const { dir } = project('paasmaker.yml', rows);
    // What a synchronous read blocks for, on this machine at this moment: the yardstick.
    const started = performance.now();
    compiled.loadManifest(dir);
    const blocking = performance.now() - started;
    let worst = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      worst = Math.max(worst, performance.now() - last);
      last = performance.now();
    }, 2);
    try {
      const manifest = await compiled.loadManifestAsync(dir);
      expect(manifest.instances[0]!.environment.KEY_17999).toBe('value-17999');
      expect(worst).toBeLessThan(blocking / 3);
      writeFileSync(join(dir, 'paasmaker.yml'), [...rows, '      KEY_3: again', ''].join('\n'));
      const refused = await compiled.loadManifestAsync(dir).catch((error: unknown) => error);
      expect((refused as Error).message).toMatch(/paasmaker\.yml:18006:7: duplicate key/);
      expect((refused as { code?: string }).code).toBe('MANIFEST_INVALID');
      expect((refused as { detail?: string }).detail).toContain('> 18006 |       KEY_3: again');
    } finally {
      clearInterval(tick);
    }
  });
});
