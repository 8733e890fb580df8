import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DoctorCheckSchema, RuntimeSchema } from '../../src/shared/views.js';
import { examples, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';

// `paasmaker doctor --json` and `paasmaker runtimes --json`: the daemon
// answers them when it runs (it knows the ports it took and what its
// instances resolved to), otherwise the command finds the local facts.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function home(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(() => stopDaemonAndRemove(home, cleanup));
  return home;
}

const Checks = z.array(DoctorCheckSchema.strict());
const Runtimes = z.array(RuntimeSchema.strict());

describe('paasmaker doctor', () => {
  it("asks the daemon, which checks the router and DNS responder on the ports it took; without one it checks the configured ports itself", async () => {
    const pmHome = home();
    const alone = await runCli(['doctor', '--json'], { home: pmHome, env: { PAASMAKER_PROXY_PORT: '1' } });
    expect(alone.exitCode).toBe(1);
    const local = Checks.parse(JSON.parse(alone.stdout));
    expect(local.find((check) => check.name === 'daemon')).toBeUndefined();
    expect(local.find((check) => check.name === 'router')).toMatchObject({ ok: false, what: 'nothing listens on port 1', fix: expect.stringContaining('paasmaker daemon start') });

    expect((await runCli(['up', '-d', join(examples, 'hello-node')], { home: pmHome })).exitCode).toBe(0);
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home: pmHome })).stdout) as { pid: number; proxyPort: number };
    const answered = await runCli(['doctor', '--json'], { home: pmHome });
    const checks = Checks.parse(JSON.parse(answered.stdout));
    expect(checks.find((check) => check.name === 'daemon')).toMatchObject({ ok: true, what: `the daemon runs (pid ${status.pid}), its router on port ${status.proxyPort}` });
    expect(checks.find((check) => check.name === 'router')).toEqual({ name: 'router', ok: true, what: `the router of the daemon (pid ${status.pid}) answers on port ${status.proxyPort}`, fix: null });
    // PAASMAKER_DNS_PORT=0: only the daemon knows which port its responder took, so only its answer has this check.
    expect(checks.find((check) => check.name === 'dns-responder')).toMatchObject({ ok: true, what: expect.stringMatching(/^the DNS responder of the daemon \(pid \d+\) answers for \*\.local\.paasmaker on 127\.0\.0\.1:\d+$/) });
    expect(checks.find((check) => check.name === 'state')).toMatchObject({ ok: true });

    const text = await runCli(['doctor'], { home: pmHome });
    expect(text.stdout).toContain(`✓ the router of the daemon (pid ${status.pid}) answers on port ${status.proxyPort}`);
  });
});

describe('paasmaker runtimes', () => {
  it("lists what is installed here, and from the daemon which version each running instance resolved to", async () => {
    const pmHome = home();
    const before = Runtimes.parse(JSON.parse((await runCli(['runtimes', '--json'], { home: pmHome })).stdout));
    expect(before.map((row) => row.name)).toEqual(expect.arrayContaining(['node', 'python', 'static', 'shell']));
    const node = before.find((row) => row.name === 'node')!;
    expect(node.installed.map((found) => found.version)).toContain(process.versions.node);
    expect(node.instances).toEqual([]);

    expect((await runCli(['up', '-d', join(examples, 'hello-node')], { home: pmHome })).exitCode).toBe(0);
    const after = Runtimes.parse(JSON.parse((await runCli(['runtimes', '--json'], { home: pmHome })).stdout));
    const web = after.find((row) => row.name === 'node')!.instances;
    expect(web).toEqual([{ app: 'hello-node', instance: 'web', version: expect.stringMatching(/^\d+\.\d+\.\d+$/), description: expect.stringMatching(/^node v\d+/) }]);
    expect(after.find((row) => row.name === 'node')!.installed.map((found) => found.version)).toContain(web[0]!.version);

    const text = await runCli(['runtimes'], { home: pmHome });
    expect(text.stdout).toMatch(new RegExp(`^node\\s+.*${web[0]!.version!.replace(/\./g, '\\.')} \\(.*hello-node/web ${web[0]!.version!.replace(/\./g, '\\.')}$`, 'm'));
  });
});
