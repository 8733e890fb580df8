import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type NetConnectOpts } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, CliProcess, repoRoot, runCli, tempHome, until, stopDaemonAndRemove, getByHost } from '../helpers/cli.js';
import { userToken } from '../helpers/auth.js';

// No single request reaches the platform's end, and what the CLI says is what happened.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const exits3 = join(repoRoot, 'test', 'fixtures', 'projects', 'exits-3');

function project(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-harden-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${name}\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('${name} ' + process.pid)).listen(process.env.PORT, '127.0.0.1')"\n  worker:\n    command: node -e "setInterval(() => {}, 1000)"\n    standalone: true\n`);
  return dir;
}

function daemonHome(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(() => stopDaemonAndRemove(home, cleanup));
  return home;
}

/** One raw HTTP/1.1 request, its target byte for byte as given (as curl sends it). */
function raw(where: NetConnectOpts, target: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const client = connect(where);
    let text = '';
    client.on('data', (chunk) => (text += chunk));
    client.on('error', reject);
    client.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      resolve({ status, json: body ? JSON.parse(body) : undefined });
    });
    const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    client.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`);
  });
}


const MALFORMED = ['/api/v1/apps/%E0%A4%A', '/api/v1/jobs/%ZZ', '/api/v1/apps/%E0%A4%A/logs', '//'];

describe('one malformed request cannot stop the platform', () => {
  it("the daemon answers 400 to a malformed URL on its Unix socket and on its TCP port with the token, and it and its apps run on", async () => {
    const home = daemonHome();
    expect((await runCli(['daemon', 'start', '--api-port', '0'], { home })).exitCode).toBe(0);
    const up = await runCli(['up', '-d', project('steady')], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { pid: number; proxyPort: number; apiPort: number };
    const token = await userToken(home, 'ops', 'admin');
    const unix = { path: join(home, 'paasmaker.sock') };
    const tcp = { host: '127.0.0.1', port: status.apiPort };
    for (const target of MALFORMED) {
      expect(await raw(unix, target), target).toMatchObject({ status: 400, json: { code: 'INVALID_REQUEST' } });
      expect(await raw(tcp, target, { authorization: `Bearer ${token}` }), target).toMatchObject({ status: 400, json: { code: 'INVALID_REQUEST' } });
    }
    // Without the token the TCP port still says 401 first.
    expect((await raw(tcp, '/api/v1/jobs/%ZZ')).status).toBe(401);
    expect((await raw(unix, '/api/v1/apps/steady/logs?lines=abc')).json).toMatchObject({ code: 'INVALID_REQUEST', error: expect.stringContaining('lines ("abc")') });

    expect(alive(status.pid)).toBe(true);
    expect(await raw(unix, '/api/v1/apps/steady')).toMatchObject({ status: 200, json: { name: 'steady', state: 'running' } });
    expect(await raw(tcp, '/api/v1/status', { authorization: `Bearer ${token}` })).toMatchObject({ status: 200, json: { pid: status.pid, apps: ['steady'] } });
    expect(await getByHost(status.proxyPort, 'steady.localhost')).toMatch(/^steady \d+$/);
  });

  it("a foreground up's socket answers 400 to a malformed URL, and up and its app run on", async () => {
    const { home, cleanup } = tempHome();
    const up = new CliProcess(['up', project('held')], { home });
    cleanups.push(() => {
      up.kill();
      cleanup();
    });
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/held\.localhost:(\d+)\//);
    const port = Number(/open (?:https:\/\/\S+ \(or )?http:\/\/held\.localhost:(\d+)\//.exec(up.output)![1]);
    const socket = { path: join(home, 'run', `up-${up.pid}.sock`) };
    for (const target of MALFORMED) expect(await raw(socket, target), target).toMatchObject({ status: 400, json: { code: 'INVALID_REQUEST' } });
    expect(up.child.exitCode).toBe(null);
    expect(await raw(socket, '/api/v1/apps/held')).toMatchObject({ status: 200, json: { name: 'held', state: 'running' } });
    expect(await getByHost(port, 'held.localhost')).toMatch(/^held \d+$/);
    // The CLI's other commands still reach it.
    const restarted = await runCli(['restart', 'held/web'], { home });
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    expect(restarted.stdout).toBe('restarted held/web');
  });
});

describe('restart and scale say when there is nothing to act on', () => {
  it('restart and scale of an instance type the app lacks exit 1 with "no instance NAME in APP" and its types; an unknown app exits 1 too', async () => {
    const home = daemonHome();
    expect((await runCli(['up', '-d', project('a2')], { home })).exitCode).toBe(0);
    const before = JSON.parse((await runCli(['ps', '--json'], { home })).stdout) as Array<{ pid: number }>;

    const restart = await runCli(['restart', 'a2/nonexistent'], { home });
    expect(restart.exitCode).toBe(1);
    expect(restart.stdout).toBe('');
    expect(restart.stderr).toContain('error: no instance "nonexistent" in a2');
    expect(restart.stderr).toContain('hint: its instance types: web, worker');

    const scale = await runCli(['scale', 'a2/nonexistent=2'], { home });
    expect(scale.exitCode).toBe(1);
    expect(scale.stderr).toContain('error: no instance "nonexistent" in a2');
    expect(scale.stderr).toContain('hint: its instance types: web, worker');

    for (const args of [['restart', 'nope'], ['restart', 'nope/web'], ['scale', 'nope/web=2']]) {
      const answer = await runCli(args, { home });
      expect(answer.exitCode, args.join(' ')).toBe(1);
      expect(answer.stderr, args.join(' ')).toContain('error: app "nope" is not running');
    }
    const usage = await runCli(['restart', 'a2/web/extra'], { home });
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain('"a2/web/extra" is not APP or APP/INSTANCE');
    const after = JSON.parse((await runCli(['ps', '--json'], { home })).stdout) as Array<{ pid: number }>;
    expect(after.map((row) => row.pid)).toEqual(before.map((row) => row.pid));
  });
});

describe('"is up" only when every routed process runs', () => {
  it('a foreground up of an app whose only process exits with code 3 says so, with the restart to come, and never "is up"', async () => {
    const { home, cleanup } = tempHome();
    const up = new CliProcess(['up', exits3], { home });
    cleanups.push(() => {
      up.kill();
      cleanup();
    });
    await up.waitForOutput(/exits-3 is not up after \d+ ms:/);
    await up.waitForOutput(/web\.0 exited with code 3 before it listened on \$PORT; restarting in \d/);
    expect(up.output).not.toMatch(/is up in/);
    expect(up.output).toContain('Error: DATABASE_URL is not set');
    expect(up.child.exitCode).toBe(null);
  });

  it('up -d of that app exits 1 and says what happened with its last lines; a working app still says "is up"', async () => {
    const home = daemonHome();
    const failed = await runCli(['up', '-d', exits3], { home });
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).not.toMatch(/is up/);
    // Its last lines, stdout and stderr (two pipes: either may be read first).
    expect(failed.stderr).toMatch(/error: exits-3 is not up after \d+ ms:\n {2}web\.0 exited with code 3 before it listened on \$PORT; restarting in \d[^\n]*\n {4}(booting exits-3|Error: DATABASE_URL is not set)\n {4}(booting exits-3|Error: DATABASE_URL is not set)\n/);
    expect(failed.stderr).toContain('    booting exits-3\n');
    expect(failed.stderr).toContain('    Error: DATABASE_URL is not set\n');
    expect(failed.stderr).toContain('hint: it stays in the daemon and is restarted');
    const good = await runCli(['up', '-d', project('fine')], { home });
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/fine is up in \d+ ms: https:\/\/fine\.localhost:\d+\/ \(or http:\/\/fine\.localhost:\d+\/\)/);
  });

  it('a foreground up joining the daemon says the same', async () => {
    const home = daemonHome();
    expect((await runCli(['daemon', 'start'], { home })).exitCode).toBe(0);
    const up = new CliProcess(['up', exits3], { home });
    cleanups.push(() => up.kill());
    await up.waitForOutput(/web\.0 exited with code 3 before it listened on \$PORT; restarting in \d/);
    await until(() => /exits-3 is not up after \d+ ms:/.test(up.output), 5000, 'the report');
    expect(up.output).not.toMatch(/is up in/);
  });
});
