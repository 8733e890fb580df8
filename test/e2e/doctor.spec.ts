import { mkdirSync, symlinkSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SERVER_SOFTWARE } from '../../src/services/binaries.js';
import { installLine } from '../../src/shared/install-line.js';
import { DoctorCheckSchema } from '../../src/shared/views.js';
import { CliProcess, examples, runCli, tempHome } from '../helpers/cli.js';
import { tmpDir } from '../helpers/processes.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

const Checks = z.array(DoctorCheckSchema.strict());

function home(): string {
  const made = tempHome();
  cleanups.push(made.cleanup);
  return made.home;
}

async function doctor(pmHome: string, env: Record<string, string> = {}) {
  const result = await runCli(['doctor', '--json'], { home: pmHome, env });
  return Checks.parse(JSON.parse(result.stdout));
}

describe('paasmaker doctor finds what runs', () => {
  it('reports the router and DNS responder of a foreground up --proxy-port 0, on the ports it took, as this home\'s', async () => {
    const pmHome = home();
    const up = new CliProcess(['up', join(examples, 'hello-node'), '--no-tui', '--proxy-port', '0'], { home: pmHome });
    cleanups.push(() => up.kill());
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/hello-node\.localhost:\d+\//);
    const port = Number(/open (?:https:\/\/\S+ \(or )?http:\/\/hello-node\.localhost:(\d+)\//.exec(up.output)![1]);

    const checks = await doctor(pmHome);
    expect(checks.filter((check) => check.name === 'router')).toEqual([{ name: 'router', ok: true, what: `the router of paasmaker up (pid ${up.pid}) answers on port ${port}`, fix: null }]);
    expect(checks.find((check) => check.name === 'dns-responder')).toMatchObject({ ok: true, what: expect.stringMatching(new RegExp(`^the DNS responder of paasmaker up \\(pid ${up.pid}\\) answers for \\*\\.local\\.paasmaker on 127\\.0\\.0\\.1:\\d+$`)) });
    // The runtime hello-node asks for resolves here, as up resolved it.
    expect(checks.find((check) => check.name === 'runtime')).toMatchObject({ ok: true, what: expect.stringMatching(/^runtime node .* for hello-node\/web: node v\d+/) });

    up.signal('SIGINT');
    await up.wait();
  });

  it("tells another home's DNS responder from this home's: the Paasmaker holding the port, and its home", async () => {
    const ours = home();
    const theirs = home();
    // A UDP port free now, given to both homes as their DNS responder's.
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const dnsPort = String(probe.address().port);
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const other = new CliProcess(['up', join(examples, 'hello-node'), '--no-tui', '--proxy-port', '0'], { home: theirs, env: { PAASMAKER_DNS_PORT: dnsPort } });
    cleanups.push(() => other.kill());
    await other.waitForOutput('hello-node is up');

    const checks = await doctor(ours, { PAASMAKER_DNS_PORT: dnsPort });
    expect(checks.find((check) => check.name === 'dns-responder')).toEqual({
      name: 'dns-responder',
      ok: false,
      what: `127.0.0.1:${dnsPort}, the DNS responder's port, is held by another Paasmaker (pid ${other.pid}, PAASMAKER_HOME=${theirs}), not by this home's Paasmaker (no platform of this home runs)`,
      fix: expect.stringContaining('PAASMAKER_DNS_PORT=N'),
    });
    // Its own home counts it as its own.
    expect((await doctor(theirs, { PAASMAKER_DNS_PORT: dnsPort })).find((check) => check.name === 'dns-responder')).toMatchObject({ ok: true, what: `the DNS responder of paasmaker up (pid ${other.pid}) answers for *.local.paasmaker on 127.0.0.1:${dnsPort}` });
    other.signal('SIGINT');
    await other.wait();
  });

  it('names the install line for a database server a project needs and this PATH lacks, and fails; one no project needs is optional', async () => {
    const pmHome = home();
    // A PATH with node and nothing else: no redis-server, no mariadbd (nor are they in the server folders looked in besides PATH).
    const { dir, cleanup } = tmpDir();
    cleanups.push(cleanup);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const env = { PATH: bin };

    const before = await doctor(pmHome, env);
    const redisLine = installLine(SERVER_SOFTWARE.find((software) => software.plugin === 'redis')!.packages);
    expect(before.find((check) => check.what.startsWith('Redis'))).toEqual({ name: 'database', ok: true, what: 'Redis is not installed (redis-server, redis-cli not found on PATH); no known project uses it', fix: `to use it: ${redisLine}` });

    // counter-redis needs Redis: its up fails, and it is a known project from then on.
    const up = await runCli(['up', join(examples, 'counter-redis'), '--no-tui'], { home: pmHome, env });
    expect(up.exitCode).toBe(1);
    expect(up.stderr).toContain(redisLine);

    const result = await runCli(['doctor'], { home: pmHome, env });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('✗ Redis is not installed (redis-server, redis-cli not found on PATH); counter-redis uses it');
    expect(result.stdout).toContain(`  fix: ${redisLine}`);
    if (process.platform === 'linux' && /apt-get/.test(redisLine)) expect(redisLine).toMatch(/^(sudo )?apt-get install redis-server$/);
  });
});
