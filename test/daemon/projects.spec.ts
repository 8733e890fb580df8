import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonProjects } from '../../src/daemon/index.js';
import { Platform } from '../../src/engine/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { alive, tempHome } from '../helpers/cli.js';

// Which projects the daemon keeps: handed over ones come back after a
// restart, held ones stop with their terminal, and one taken down stays down.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function project(name: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pm-kept-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${name}\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('${name}')).listen(process.env.PORT, '127.0.0.1')"\n`);
  return loadManifest(dir);
}

async function daemonPlatform(home: string) {
  const platform = await Platform.open({ home });
  cleanups.push(() => platform.close());
  const said: string[] = [];
  return { platform, projects: new DaemonProjects(platform, (line) => said.push(line)), said };
}

const running = (platform: Platform) => platform.runningApps().map((manifest) => manifest.application.name).sort();

describe('the projects a daemon keeps', () => {
  it('brings back handed-over projects after a restart, stops held ones when their terminal goes, and not one taken down', { timeout: 30_000 }, async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const first = await daemonPlatform(home);
    await first.platform.apply(project('kept'), { restore: true });
    await first.platform.apply(project('held'), { restore: false });
    await first.platform.apply(project('dropped'), { restore: true });

    // The terminal holding "held" went away: it stops; a handed-over project's terminal going changes nothing.
    await first.projects.detached('kept');
    await first.projects.detached('held');
    expect(running(first.platform)).toEqual(['dropped', 'kept']);
    expect(first.said).toEqual(['held: its terminal went away; stopping it']);

    await first.platform.down('dropped');
    const [kept] = first.platform.processes('kept');
    await first.platform.close();
    expect(alive(kept!.pid!)).toBe(false);

    // The next daemon brings back only what was handed over and not taken down.
    const second = await daemonPlatform(home);
    await second.projects.restore();
    expect(running(second.platform)).toEqual(['kept']);
    expect(second.said).toEqual([expect.stringMatching(/^restoring kept from /)]);
    expect(second.platform.processes('kept')[0]).toMatchObject({ state: 'running' });
  });
});
