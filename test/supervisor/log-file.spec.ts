import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogFile } from '../../src/supervisor/log-file.js';
import { tailLog } from '../../src/shared/tail.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('process log files', () => {
  it('rotate by size: the current file and one older, never more, and no line lost across the switch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-log-'));
    dirs.push(dir);
    const file = join(dir, 'web.0.log');
    const log = new LogFile(file, 10_000);
    for (let i = 0; i < 1000; i++) log.write('out', `line ${i} ${'x'.repeat(40)}`, Date.now());
    await log.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(false);
    expect(statSync(file).size).toBeLessThan(10_000);
    expect(statSync(`${file}.1`).size).toBeLessThan(10_000 + 200);
    const current = readFileSync(file, 'utf8').trim().split('\n');
    const previous = readFileSync(`${file}.1`, 'utf8').trim().split('\n');
    expect(current.at(-1)).toMatch(/ out line 999 x+$/);
    // The older file ends exactly where the current one begins.
    const last = Number(/line (\d+)/.exec(previous.at(-1)!)![1]);
    const first = Number(/line (\d+)/.exec(current[0]!)![1]);
    expect(first).toBe(last + 1);
    // Reading the last lines reaches into the older file, in order.
    const tail = tailLog(file, current.length + 3).map((line) => Number(/line (\d+)/.exec(line)![1]));
    expect(tail).toEqual(Array.from({ length: current.length + 3 }, (_, i) => 1000 - current.length - 3 + i));
  });
});
