import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/services/binaries.js';
import { examples, httpsGet, runCli, Scratch, until } from '../helpers/cli.js';

// https:// as a user meets it: the daemon's router listens with TLS on a port
// of its own (reported by `daemon status`), or not at all with --no-tls.

const scratch = new Scratch();
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
afterEach(() => scratch.cleanup());

const haveCurl = findBinary(['curl']) !== undefined;

/** An app that answers with the forwarding headers it was sent, and the HTTP version it was spoken to in. */
const ECHO_APP = `
require('node:http').createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ version: req.httpVersion, proto: req.headers['x-forwarded-proto'], forwarded: req.headers.forwarded }));
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

describe('https through the daemon', () => {
  it('up -d: hello-node answers on https://hello-node.localhost:TLS_PORT/ with the root in PAASMAKER_HOME/tls; the port comes back after a restart', async () => {
    const home = scratch.daemonHome();
    const up = await runCli(['up', '-d', join(examples, 'hello-node')], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    // Reported up, it answers on https at once: the root `curl --cacert` needs is on disk already (a first start makes it).
    expect(existsSync(join(home, 'tls', 'root.pem'))).toBe(true);
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { proxyPort: number; tlsPort: number | null };
    expect(status.tlsPort).toBeGreaterThan(0);
    expect(status.tlsPort).not.toBe(status.proxyPort);
    const https = `https://hello-node.localhost:${status.tlsPort}/`;
    const http = `http://hello-node.localhost:${status.proxyPort}/`;
    // The https URL first wherever an app's URL is shown; plain http beside it.
    expect(up.stdout).toMatch(new RegExp(`^hello-node is up in \\d+ ms: ${escape(https)} \\(or ${escape(http)}\\)$`, 'm'));
    const ps = await runCli(['ps'], { home });
    expect(ps.stdout).toMatch(new RegExp(`^hello-node web\\s+${escape(https)} \\(or ${escape(http)}\\)$`, 'm'));
    const rows = JSON.parse((await runCli(['ps', '--json'], { home })).stdout) as Array<{ instance: string; url: string | null; httpsUrl: string | null }>;
    expect(rows.find((row) => row.instance === 'web')).toMatchObject({ url: http, httpsUrl: https });
    const text = (await runCli(['daemon', 'status'], { home })).stdout;
    expect(text).toContain(`(https on ${status.tlsPort})`);
    const root = join(home, 'tls', 'root.pem');
    await until(() => existsSync(root), 20_000, 'root.pem');
    expect(await httpsGet(status.tlsPort!, 'hello-node.localhost', readFileSync(root, 'utf8'))).toContain('Hello from Paasmaker');

    // Stopped and started again: the same https port (the record keeps it), the same root.
    expect((await runCli(['daemon', 'stop'], { home })).exitCode).toBe(0);
    const again = await runCli(['daemon', 'start'], { home });
    expect(again.stdout).toContain(`(https on ${status.tlsPort})`);
  }, 90_000);

  it.skipIf(!haveCurl)('curl --http2 --cacert root.pem https://hello-node.localhost:TLS_PORT/ is answered over HTTP/2; the app gets HTTP/1.1 with X-Forwarded-Proto https', async () => {
    const home = scratch.daemonHome();
    const echo = scratch.project({ 'paasmaker.yml': 'application:\n  name: echo\ninstances:\n  web:\n    command: node server.cjs\n', 'server.cjs': ECHO_APP });
    for (const dir of [join(examples, 'hello-node'), echo]) {
      const up = await runCli(['up', '-d', dir], { home });
      expect(up.exitCode, up.stderr).toBe(0);
    }
    const { tlsPort } = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { tlsPort: number };
    const root = join(home, 'tls', 'root.pem');
    await until(() => existsSync(root), 20_000, 'root.pem');
    const curl = async (name: string) => {
      const url = `https://${name}:${tlsPort}/`;
      const { stdout } = await promisify(execFile)('curl', ['-sS', '--fail', '--http2', '--cacert', root, '--resolve', `${name}:${tlsPort}:127.0.0.1`, '-w', '\n%{http_version}', url]);
      const at = stdout.lastIndexOf('\n');
      return { body: stdout.slice(0, at), version: stdout.slice(at + 1) };
    };
    const hello = await curl('hello-node.localhost');
    expect(hello.version).toBe('2');
    expect(hello.body).toContain('Hello from Paasmaker');
    const echoed = await curl('echo.localhost');
    expect(echoed.version).toBe('2');
    expect(JSON.parse(echoed.body)).toEqual({ version: '1.1', proto: 'https', forwarded: expect.stringMatching(/;proto=https$/) });
  });

  it('daemon start --no-tls: no TLS listener, the status says null, and apps show http:// only', async () => {
    const home = scratch.daemonHome();
    const started = await runCli(['daemon', 'start', '--no-tls'], { home });
    expect(started.exitCode, started.stderr).toBe(0);
    expect(started.stdout).not.toContain('https');
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { proxyPort: number; tlsPort: number | null };
    expect(status.tlsPort).toBeNull();
    expect(existsSync(join(home, 'tls'))).toBe(false);

    const up = await runCli(['up', '-d', join(examples, 'hello-node')], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    const http = `http://hello-node.localhost:${status.proxyPort}/`;
    expect(up.stdout).toMatch(new RegExp(`^hello-node is up in \\d+ ms: ${escape(http)}$`, 'm'));
    const ps = await runCli(['ps'], { home });
    expect(ps.stdout).toMatch(new RegExp(`^hello-node web\\s+${escape(http)}$`, 'm'));
    expect(ps.stdout).not.toContain('https');
    const rows = JSON.parse((await runCli(['ps', '--json'], { home })).stdout) as Array<{ instance: string; url: string | null; httpsUrl: string | null }>;
    expect(rows.find((row) => row.instance === 'web')).toMatchObject({ url: http, httpsUrl: null });
  }, 60_000);

  it('--no-tls or --tls-port given while the daemon runs otherwise: a note says they wait for its next start', async () => {
    const home = scratch.daemonHome();
    expect((await runCli(['daemon', 'start'], { home })).exitCode).toBe(0);
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { pid: number; tlsPort: number };

    const again = await runCli(['daemon', 'start', '--no-tls'], { home });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain(`note: the daemon (pid ${status.pid}) already runs, so --no-tls (it serves https on ${status.tlsPort}) does not apply: stop it first with paasmaker daemon stop, then run this again`);
    const other = status.tlsPort === 65535 ? 65534 : status.tlsPort + 1;
    const up = await runCli(['up', '-d', '--tls-port', String(other), join(examples, 'hello-node')], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stderr).toContain(`--tls-port ${other} (its https is on ${status.tlsPort}) does not apply`);
    // As the daemon runs (the TLS port it has), nothing to say.
    const same = await runCli(['daemon', 'start', '--tls-port', String(status.tlsPort)], { home });
    expect(same.stderr).toBe('');
  }, 60_000);
});
