import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProjectWatcher } from '../../src/engine/watcher.js';
import { sleep, until } from '../helpers/cli.js';

// The project watcher in process, on real files: what a save reports, and when.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function watching(options: { debounceMs?: number } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'pm-watch-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'server.js'), 'v1');
  const reports: Array<{ at: number; paths: string[] }> = [];
  const watcher = new ProjectWatcher({ root, ...options, onChange: (paths) => reports.push({ at: Date.now(), paths }) });
  cleanups.push(() => watcher.close());
  await watcher.ready;
  return { root, reports };
}

describe('the project watcher', () => {
  it('reports a save once, as a path relative to the project', async () => {
    const { root, reports } = await watching();
    writeFileSync(join(root, 'server.js'), 'v2');
    await until(() => reports.length > 0, 5000, 'the save to be reported');
    await sleep(300);
    expect(reports.map((report) => report.paths)).toEqual([['server.js']]);
  });

  it('reports a second save of the same file that comes right after the first one was reported', async () => {
    // chokidar itself reports no second change of a file within 50 ms of the last: without a second look, this one is lost.
    const { root, reports } = await watching({ debounceMs: 5 });
    writeFileSync(join(root, 'server.js'), 'v2');
    await until(() => reports.length > 0, 5000, 'the first save to be reported');
    writeFileSync(join(root, 'server.js'), 'v3, longer');
    const secondAt = Date.now();
    await until(() => reports.some((report) => report.at >= secondAt), 2000, 'the second save to be reported');
    expect(reports.at(-1)!.paths).toEqual(['server.js']);
    // Told once more, not again and again.
    await sleep(300);
    expect(reports.filter((report) => report.at >= secondAt)).toHaveLength(1);
  });

  it('a watcher closed before it has read its tree is done waiting: ready settles', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pm-watch-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    for (let i = 0; i < 500; i++) writeFileSync(join(root, `file${i}.js`), '');
    const watcher = new ProjectWatcher({ root, onChange: () => undefined });
    await watcher.close();
    // chokidar says nothing more once closed: without this, whoever waited on ready waited for good.
    const settled = await Promise.race([watcher.ready.then(() => 'ready'), sleep(2000).then(() => 'still waiting')]);
    expect(settled).toBe('ready');
  });

  it('reports nothing more after it is closed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pm-watch-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    writeFileSync(join(root, 'a.js'), '1');
    const reports: string[][] = [];
    const watcher = new ProjectWatcher({ root, debounceMs: 5, onChange: (paths) => reports.push(paths) });
    await watcher.ready;
    writeFileSync(join(root, 'a.js'), '2');
    await until(() => reports.length > 0, 5000, 'the save to be reported');
    writeFileSync(join(root, 'a.js'), '3, longer');
    await watcher.close();
    await sleep(300);
    expect(reports).toHaveLength(1);
  });
});
