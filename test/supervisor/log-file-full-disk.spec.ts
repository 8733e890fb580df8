import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskSpace } from '../../src/shared/disk-space.js';
import { LogFile } from '../../src/supervisor/log-file.js';
import { fillDisk, mountTmpfs } from '../helpers/tmpfs.js';
import { sleep, until } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const mount = mountTmpfs(2);
if ('skip' in mount) console.warn(`skipping the full-disk log tests: ${mount.skip}`);
else mount.unmount();

describe.skipIf('skip' in mount)('a process log on a disk that fills up', () => {
  it('never throws, counts the lines it could not write, then goes on with a line saying how many were lost', async () => {
    const disk = mountTmpfs(2) as { dir: string; unmount: () => void };
    cleanups.push(disk.unmount);
    const space = new DiskSpace(disk.dir, 100);
    cleanups.push(() => space.close());
    const file = join(disk.dir, 'logs', 'web.0.log');
    const log = new LogFile(file, { space });
    log.write('out', 'before the disk filled', Date.now());
    await log.close();
    const filler = fillDisk(disk.dir);
    let n = 0;
    // Lines keep coming while the disk is full: each one is either written or counted, never thrown.
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) {
      log.write('out', `line ${n++} ${'x'.repeat(200)}`, Date.now());
      await sleep(2);
    }
    expect(space.degraded?.reason).toMatch(/is full: the log .*web\.0\.log could not be written \(ENOSPC\)/);
    rmSync(filler);
    await until(() => !space.degraded, 5000, 'the probe to find room again');
    await sleep(20);
    log.write('out', 'after the space came back', Date.now());
    log.write('out', 'and on', Date.now());
    await log.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    const notice = lines.find((line) => / sys \[paasmaker\] \d+ lines? lost while the disk was full$/.test(line));
    expect(notice).toBeDefined();
    const written = lines.filter((line) => / out line \d+ x+$/.test(line)).length;
    expect(Number(/(\d+) lines? lost/.exec(notice!)![1]) + written).toBe(n);
    expect(lines.slice(-3, -1).map((line) => line.replace(/^\S+ /, ''))).toEqual(['out after the space came back', 'out and on']);
    // The disk may have cut one line short: it is ended there, and the notice starts a line of its own.
    const broken = lines.slice(0, -1).flatMap((line, i) => (/^\d{4}-\d\d-\d\dT[\d:.]+Z (out|err|sys) /.test(line) && (line.includes(' sys ') || / x{200}$|before|after|and on/.test(line)) ? [] : [i]));
    expect(broken.length).toBeLessThanOrEqual(1);
    for (const i of broken) expect(lines[i + 1]).toBe(notice);
  });
});
