import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findBinary } from '../../src/services/binaries.js';
import { ServiceSchema } from '../../src/shared/views.js';
import { apiRequest, CliProcess, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';

// `paasmaker services` and `services destroy`: clients of GET and DELETE
// /api/v1/services when a platform runs; without one, the list is read from
// state and a destroy says how to start a platform.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const Rows = z.array(ServiceSchema.strict());

function project(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-services-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'paasmaker.yml'),
    `application:\n  name: ${name}\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"\nservices:\n  notes:\n    plugin: sqlite\n`,
  );
  return dir;
}

function home(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(() => stopDaemonAndRemove(home, cleanup));
  return home;
}

async function servicesJson(home: string) {
  const result = await runCli(['services', '--json'], { home });
  expect(result.exitCode, result.stderr).toBe(0);
  return Rows.parse(JSON.parse(result.stdout));
}

describe('paasmaker services, through the API', () => {
  it('lists the same services from the daemon and, once it stopped, from state; destroy then says how to start a platform and deletes nothing', async () => {
    const pmHome = home();
    const dir = project('notebook');
    expect((await runCli(['up', '-d', dir], { home: pmHome })).exitCode).toBe(0);
    const fromDaemon = await servicesJson(pmHome);
    expect(fromDaemon).toEqual([expect.objectContaining({ kind: 'service', name: 'notebook/notes', app: 'notebook', service: 'notes', plugin: 'sqlite', symbolic: 'sqlite', state: 'provisioned' })]);
    const file = fromDaemon[0]!.resource!;
    expect(existsSync(file)).toBe(true);

    expect((await runCli(['daemon', 'stop'], { home: pmHome })).exitCode).toBe(0);
    const stateBefore = readFileSync(join(pmHome, 'state.db'));
    expect(await servicesJson(pmHome)).toEqual(fromDaemon);
    const text = await runCli(['services'], { home: pmHome });
    expect(text.stdout).toMatch(/^notebook\/notes\s+-\s+sqlite\s+sqlite\s+\S+notes\.sqlite$/m);

    const refused = await runCli(['services', 'destroy', 'notebook/notes', '--yes'], { home: pmHome });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('no platform runs: destroying notebook/notes needs one');
    expect(refused.stderr).toContain('hint: start one with: paasmaker daemon start, then run: paasmaker services destroy notebook/notes --yes');
    expect(existsSync(file)).toBe(true);
    // Nothing was started to answer: no daemon, no socket, the state untouched.
    expect(existsSync(join(pmHome, 'paasmaker.sock'))).toBe(false);
    expect(readFileSync(join(pmHome, 'state.db')).equals(stateBefore)).toBe(true);
  });

  it('destroys a service through the daemon only when its name comes back as the confirmation, as a job', async () => {
    const pmHome = home();
    const dir = project('ledger');
    expect((await runCli(['up', '-d', dir], { home: pmHome })).exitCode).toBe(0);
    const socket = join(pmHome, 'paasmaker.sock');
    const file = (await servicesJson(pmHome))[0]!.resource!;

    const unconfirmed = await runCli(['services', 'destroy', 'ledger/notes'], { home: pmHome });
    expect(unconfirmed.exitCode).toBe(1);
    expect(unconfirmed.stderr).toContain('add --yes to confirm: paasmaker services destroy ledger/notes --yes');
    expect(await apiRequest(socket, 'DELETE', '/api/v1/services/ledger/notes', { body: {} })).toMatchObject({ status: 409, json: { code: 'CONFIRMATION_NEEDED', hint: 'send the service\'s name to confirm: {"confirm": "notes"}' } });
    expect(await apiRequest(socket, 'DELETE', '/api/v1/services/ledger/notes', { body: { confirm: 'ledger' } })).toMatchObject({ status: 409, json: { code: 'CONFIRMATION_NEEDED' } });
    expect(await apiRequest(socket, 'DELETE', '/api/v1/services/ledger/nosuch', { body: { confirm: 'nosuch' } })).toMatchObject({ status: 404, json: { code: 'SERVICE_NOT_FOUND' } });
    expect(await apiRequest(socket, 'DELETE', '/api/v1/services/ledger/notes?branch=feature', { body: { confirm: 'notes' } })).toMatchObject({ status: 404, json: { error: 'no provisioned service ledger/notes@feature' } });
    expect(existsSync(file)).toBe(true);
    expect((await servicesJson(pmHome)).map((row) => row.name)).toEqual(['ledger/notes']);

    const destroyed = await runCli(['services', 'destroy', 'ledger/notes', '--yes'], { home: pmHome });
    expect(destroyed.exitCode, destroyed.stderr).toBe(0);
    expect(destroyed.stdout).toMatch(/^destroyed ledger\/notes \(sqlite .*notes\.sqlite\)$/m);
    expect(existsSync(file)).toBe(false);
    expect(await servicesJson(pmHome)).toEqual([]);
    const jobs = JSON.parse((await runCli(['jobs', '--json', '--app', 'ledger'], { home: pmHome })).stdout) as Array<{ title: string; state: string }>;
    expect(jobs).toContainEqual(expect.objectContaining({ title: 'destroy notes', state: 'success' }));
  });

  // Without redis-server this one is skipped, except in CI, where it fails.
  it.skipIf(!findBinary(['redis-server']) && process.env.CI !== 'true')('a foreground up answers the services list too, managed servers included', async () => {
    const pmHome = home();
    const dir = mkdtempSync(join(tmpdir(), 'pm-services-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: cachey\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"\nservices:\n  cache:\n    plugin: redis\n`);
    const up = new CliProcess(['up', dir, '--no-watch', '--no-tui'], { home: pmHome });
    cleanups.push(async () => {
      up.signal('SIGINT');
      await up.wait().catch(() => up.kill());
    });
    await up.waitForOutput(/cachey is up/, 60_000);
    const rows = await servicesJson(pmHome);
    expect(rows.find((row) => row.kind === 'server')).toMatchObject({ name: 'redis', plugin: 'redis', state: 'running', version: 'Redis', app: null });
    expect(rows.find((row) => row.kind === 'server')!.pid).toBeGreaterThan(0);
    expect(rows.find((row) => row.kind === 'service')).toMatchObject({ name: 'cachey/cache', plugin: 'redis' });
  });
});
