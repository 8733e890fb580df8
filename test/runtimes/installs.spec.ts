import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installedVersions, removeInstalled } from '../../runtimes/index.js';
import { installOnce } from '../../runtimes/installs.js';

describe('runtime versions installed under PAASMAKER_HOME/runtimes', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'pm-installs-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const fill = (calls: string[]) => async (temporary: string) => {
    calls.push(temporary);
    await new Promise((resolve) => setTimeout(resolve, 100));
    mkdirSync(join(temporary, 'bin'));
    writeFileSync(join(temporary, 'bin', 'tool'), 'ok');
  };

  it('two askers at once install once: the second waits for the first and is told it was there', async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    const outcomes = await Promise.all([installOnce(home, 'node', '18.20.8', fill(calls), (line) => lines.push(line)), installOnce(home, 'node', '18.20.8', fill(calls), (line) => lines.push(line))]);
    expect(outcomes.sort()).toEqual([false, true]);
    expect(calls).toHaveLength(1);
    expect(lines).toContain('node 18.20.8 is being installed already: waiting for it');
    expect(installedVersions(home, 'node')).toEqual([{ version: '18.20.8', folder: join(home, 'runtimes', 'node', '18.20.8') }]);
    // Asked again later: nothing to do.
    expect(await installOnce(home, 'node', '18.20.8', fill(calls), () => {})).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('a failed install leaves nothing behind, and the next one starts afresh', async () => {
    await expect(
      installOnce(home, 'node', '16.0.0', async (temporary) => {
        writeFileSync(join(temporary, 'half'), 'x');
        throw new Error('download cut');
      }, () => {}),
    ).rejects.toThrow('download cut');
    expect(readdirSync(join(home, 'runtimes', 'node'))).toEqual([]);
    expect(await installOnce(home, 'node', '16.0.0', fill([]), () => {})).toBe(true);
    expect(readFileSync(join(home, 'runtimes', 'node', '16.0.0', 'bin', 'tool'), 'utf8')).toBe('ok');
  });

  it('a crashed process: its lock (a dead pid) is broken, and its temporary folder swept away', async () => {
    const root = join(home, 'runtimes', 'node');
    mkdirSync(join(root, '.20.1.0.tmp-999999-abcdef'), { recursive: true });
    const dead = spawnSync('true').pid!;
    writeFileSync(join(root, '20.1.0.lock'), String(dead));
    expect(await installOnce(home, 'node', '20.1.0', fill([]), () => {})).toBe(true);
    expect(readdirSync(root)).toEqual(['20.1.0']);
  });

  it("a lock left empty long ago, or holding our own pid (a restart that got the same pid), is broken; a live writer's folder is left alone", async () => {
    const root = join(home, 'runtimes', 'node');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, '20.2.0.lock'), '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(root, '20.2.0.lock'), old, old);
    expect(await installOnce(home, 'node', '20.2.0', fill([]), () => {})).toBe(true);
    writeFileSync(join(root, '20.3.0.lock'), String(process.pid));
    // Another live process's temporary folder (pid 1 always lives): not swept.
    mkdirSync(join(root, '.20.3.0.tmp-1-abcdef'));
    expect(await installOnce(home, 'node', '20.3.0', fill([]), () => {})).toBe(true);
    expect(readdirSync(root).sort()).toEqual(['.20.3.0.tmp-1-abcdef', '20.2.0', '20.3.0']);
  });

  it('removing one takes it away whole; a version not installed by Paasmaker is refused', () => {
    mkdirSync(join(home, 'runtimes', 'node', '18.20.8', 'bin'), { recursive: true });
    removeInstalled(home, 'node', '18.20.8');
    expect(existsSync(join(home, 'runtimes', 'node', '18.20.8'))).toBe(false);
    expect(readdirSync(join(home, 'runtimes', 'node'))).toEqual([]);
    expect(() => removeInstalled(home, 'node', '18.20.8')).toThrow(expect.objectContaining({ code: 'RUNTIME_NOT_INSTALLED' }));
  });
});
