import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ManagedServer } from '../../src/services/managed-server.js';
import type { ServiceContext } from '../../src/services/types.js';
import { DiskSpace } from '../../src/shared/disk-space.js';
import type { State } from '../../src/state/index.js';
import { Supervisor } from '../../src/supervisor/index.js';
import { fillDisk, mountTmpfs } from '../helpers/tmpfs.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const probe = mountTmpfs(1);
if ('skip' in probe) console.warn(`skipping the full-disk managed server test: ${probe.skip}`);
else probe.unmount();

/** The smallest managed server: a node process listening on its port, run as the user running the tests. */
class TinyServer extends ManagedServer {
  readonly title = 'Tiny server';
  protected override readonly user = undefined;
  protected initialised(): boolean {
    return true;
  }
  protected async initialise(): Promise<void> {}
  protected configure(): void {}
  protected command(port: number): string {
    return `exec '${process.execPath}' -e "require('net').createServer().listen(${port}, '127.0.0.1')"`;
  }
  protected async waitUntilReady(): Promise<void> {}
}

describe.skipIf('skip' in probe)('a managed server on a full disk', () => {
  it('stops without an error, leaves no half-written record behind, and no other paasmaker waits for it to restart', async () => {
    const disk = mountTmpfs(2) as { dir: string; unmount: () => void };
    cleanups.push(disk.unmount);
    const lines: string[] = [];
    const supervisor = new Supervisor({ space: new DiskSpace(disk.dir) });
    cleanups.push(() => supervisor.stopAll());
    const context: ServiceContext = { home: disk.dir, state: undefined as unknown as State, supervisor, env: process.env, say: (line) => lines.push(line) };
    const server = new TinyServer('tiny', context);
    const endpoint = await server.ensure();
    expect(endpoint.ours).toBe(true);
    expect(server.status()).toMatchObject({ state: 'running', port: endpoint.port });

    fillDisk(disk.dir);
    await server.stop();
    expect(readdirSync(server.dir).filter((name) => name.startsWith('server.json'))).toEqual([]);
    // What another paasmaker reads: stopped, not "restarting" (which it would wait 30 s for).
    expect(new TinyServer('tiny', context).status().state).toBe('stopped');
    expect(lines.join('\n')).toContain('Tiny server: stopped, but could not record it');
  });
});
