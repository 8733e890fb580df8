import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followEvents } from '../../src/api/client.js';
import type { PlatformEventArgs } from '../../src/engine/index.js';
import type { AppRow, ProcessRow, WarningRow } from '../../src/shared/views.js';
import { apiRequest, bin, repoRoot, runCli, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';
import { haveTmux, openTerminal } from '../helpers/tmux.js';

// What the console and top show live beside each process and app: CPU and
// memory, the last deploy and reload, the daemon's warnings. One daemon,
// started while its DNS port is taken, runs a project of three workers.

const zoo = join(repoRoot, 'test', 'fixtures', 'zoo');
const hasProc = process.platform === 'linux';

let home: string;
let socket: string;
let project: string;
let dnsHolder: Socket;
let dnsPort: number;
let cleanup: () => Promise<void>;

const processes = async () => (await apiRequest(socket, 'GET', '/api/v1/processes?app=usage')).json as ProcessRow[];
const row = async (instance: string) => (await processes()).find((candidate) => candidate.instance === instance);
const app = async () => (await apiRequest(socket, 'GET', '/api/v1/apps/usage')).json as AppRow;

beforeAll(async () => {
  const temp = tempHome();
  home = temp.home;
  socket = join(home, 'paasmaker.sock');
  project = mkdtempSync(join(tmpdir(), 'pm-usage-'));
  writeFileSync(
    join(project, 'paasmaker.yml'),
    [
      'application:',
      '  name: usage',
      'instances:',
      '  busy:',
      `    command: node ${join(zoo, 'burns-cpu-in-child.mjs')}`,
      '    standalone: true',
      '  idle:',
      `    command: node -e "setInterval(() => {}, 1000)"`,
      '    standalone: true',
      '  hog:',
      `    command: node ${join(zoo, 'holds-memory.mjs')}`,
      '    standalone: true',
      '    environment:',
      '      MEMORY_MB: "50"',
      '',
    ].join('\n'),
  );
  // The DNS responder's port, taken before the daemon starts: the platform warns and goes on.
  dnsHolder = createSocket('udp4');
  await new Promise<void>((resolve) => dnsHolder.bind(0, '127.0.0.1', resolve));
  dnsPort = dnsHolder.address().port;
  cleanup = async () => {
    await stopDaemonAndRemove(home, temp.cleanup);
    rmSync(project, { recursive: true, force: true });
    dnsHolder.close();
  };
  const started = await runCli(['daemon', 'start'], { home, env: { PAASMAKER_DNS_PORT: String(dnsPort) } });
  expect(started.exitCode, started.stderr).toBe(0);
  const up = await runCli(['up', '-d', project], { home });
  expect(up.exitCode, up.stderr + up.stdout).toBe(0);
}, 90_000);

afterAll(async () => cleanup?.());

describe.skipIf(!hasProc)('CPU and memory of each process, from /proc, summed over its process group', () => {
  it('a process whose child spins a core shows over 20% CPU, an idle one under 20%; one holding 50 MB shows 40 MB more than the idle one', async () => {
    const busy = await until(async () => {
      const found = await row('busy');
      return found?.cpu !== null && found!.cpu! > 20 ? found : undefined;
    }, 60_000, 'the busy process (its child spinning) above 20% CPU');
    expect(busy.memory).toBeGreaterThan(0);
    const idle = await until(async () => {
      const found = await row('idle');
      return found?.cpu !== null && found?.cpu !== undefined ? found : undefined;
    }, 30_000, 'a CPU sample of the idle process');
    expect(idle.cpu).toBeLessThan(20);
    const hog = (await row('hog'))!;
    expect(hog.memory! - idle.memory!, `hog ${hog.memory} idle ${idle.memory}`).toBeGreaterThan(40 * 1024 * 1024);
    // An instance type's row sums its processes.
    const instances = (await apiRequest(socket, 'GET', '/api/v1/apps/usage/instances')).json as Array<{ name: string; memory: number | null }>;
    expect(instances.find((instance) => instance.name === 'hog')!.memory).toBeGreaterThan(40 * 1024 * 1024);
  }, 120_000);

  it('paasmaker ps shows CPU and MEM within 100 columns; --json has cpu and memory as numbers', async () => {
    await until(async () => (await processes()).every((candidate) => candidate.cpu !== null), 30_000, 'every process sampled twice');
    const json = await runCli(['ps', '--json'], { home });
    expect(json.exitCode, json.stderr).toBe(0);
    const rows = JSON.parse(json.stdout) as ProcessRow[];
    expect(rows).toHaveLength(3);
    for (const each of rows) {
      expect(typeof each.cpu).toBe('number');
      expect(typeof each.memory).toBe('number');
    }
    const text = await runCli(['ps'], { home });
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/\bCPU\s+MEM$/);
    expect(lines.find((line) => line.includes('hog.0'))).toMatch(/\d+(\.\d)?%\s+\d+M$/);
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(100);
  }, 60_000);

  it('the event stream carries process.stats for the app, about every 2 s', async () => {
    const seen: Array<Extract<PlatformEventArgs, ['process.stats', ...unknown[]]>[1]> = [];
    const stream = followEvents(socket, { app: 'usage' }, (...event: PlatformEventArgs) => {
      if (event[0] === 'process.stats') seen.push(event[1]);
    });
    try {
      await until(() => seen.length >= 2, 20_000, 'two process.stats events');
    } finally {
      stream.destroy();
    }
    expect(seen[1]!.app).toBe('usage');
    expect(seen[1]!.samples.map((sample) => sample.instance).sort()).toEqual(['busy', 'hog', 'idle']);
    expect(seen[1]!.samples.find((sample) => sample.instance === 'hog')).toMatchObject({ index: 0, pid: expect.any(Number), memory: expect.any(Number) });
  }, 30_000);
});

describe("the daemon's warnings", () => {
  it('GET /api/v1/warnings lists the DNS port it could not take, with a time and no app', async () => {
    const warnings = (await apiRequest(socket, 'GET', '/api/v1/warnings')).json as WarningRow[];
    const dns = warnings.find((warning) => warning.text.includes(`127.0.0.1:${dnsPort}`));
    expect(dns, JSON.stringify(warnings)).toMatchObject({ app: null, text: expect.stringContaining('DNS responder') });
    expect(Date.parse(dns!.time)).not.toBeNaN();
  });

  it.skipIf(!haveTmux)('paasmaker top, attached to the daemon, shows it in its status area', async () => {
    const terminal = openTerminal(home, 'pm-top-warn', `env -u CI PAASMAKER_HOME=${home} ${bin} top; sleep 60`);
    try {
      await until(() => terminal.screen().includes(`⚠ the DNS responder for *.local.paasmaker could not use 127.0.0.1:${dnsPort}`), 20_000, 'the warning in top');
      // And the CPU and memory of the processes in its table.
      await until(() => /hog\.0\s+● running\s.*\d+M/.test(terminal.screen()), 20_000, 'the memory of hog.0 in top');
    } finally {
      terminal.close();
    }
  }, 60_000);
});

describe('when an app was deployed and reloaded', () => {
  it('up sets deployedAt; restart sets reloadedAt (an app.deployed event says so); both survive a daemon restart', async () => {
    const first = await app();
    expect(Date.parse(first.deployedAt!)).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(first.reloadedAt).toBeNull();

    const events: unknown[] = [];
    const stream = followEvents(socket, { app: 'usage' }, (...event: PlatformEventArgs) => {
      if (event[0] === 'app.deployed') events.push(event[1]);
    });
    try {
      const restarted = await runCli(['restart', 'usage'], { home });
      expect(restarted.exitCode, restarted.stderr).toBe(0);
      await until(() => events.length > 0, 10_000, 'an app.deployed event');
    } finally {
      stream.destroy();
    }
    const second = await app();
    expect(second.deployedAt).toBe(first.deployedAt);
    expect(Date.parse(second.reloadedAt!)).toBeGreaterThanOrEqual(Date.parse(first.deployedAt!));
    expect(events[0]).toEqual({ app: 'usage', kind: 'reload', deployedAt: first.deployedAt, reloadedAt: second.reloadedAt });

    expect((await runCli(['daemon', 'stop'], { home })).exitCode).toBe(0);
    const started = await runCli(['daemon', 'start'], { home, env: { PAASMAKER_DNS_PORT: String(dnsPort) } });
    expect(started.exitCode, started.stderr).toBe(0);
    await until(async () => (await app()).state === 'running', 30_000, 'usage brought back by the daemon');
    const after = await app();
    expect({ deployedAt: after.deployedAt, reloadedAt: after.reloadedAt }).toEqual({ deployedAt: second.deployedAt, reloadedAt: second.reloadedAt });
  }, 120_000);
});
