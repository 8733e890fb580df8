import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { examples, runCli, Scratch, until } from '../helpers/cli.js';

// https:// as a user meets it: the daemon's router listens with TLS on a port
// of its own (reported by `daemon status`), or not at all with --no-tls.

const scratch = new Scratch();
afterEach(() => scratch.cleanup());

function httpsGet(port: number, name: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: name, headers: { host: name }, ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('https through the daemon', () => {
  it('up -d: hello-node answers on https://hello-node.localhost:TLS_PORT/ with the root in PAASMAKER_HOME/tls; the port comes back after a restart', async () => {
    const home = scratch.daemonHome();
    const up = await runCli(['up', '-d', join(examples, 'hello-node')], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { proxyPort: number; tlsPort: number | null };
    expect(status.tlsPort).toBeGreaterThan(0);
    expect(status.tlsPort).not.toBe(status.proxyPort);
    const text = (await runCli(['daemon', 'status'], { home })).stdout;
    expect(text).toContain(`(https on ${status.tlsPort})`);
    const root = join(home, 'tls', 'root.pem');
    await until(() => existsSync(root), 20_000, 'root.pem');
    expect(await httpsGet(status.tlsPort!, 'hello-node.localhost', readFileSync(root, 'utf8'))).toContain('Hello from Paasmaker');

    // Stopped and started again: the same https port (the record keeps it), the same root.
    expect((await runCli(['daemon', 'stop'], { home })).exitCode).toBe(0);
    const again = await runCli(['daemon', 'start'], { home });
    expect(again.stdout).toContain(`(https on ${status.tlsPort})`);
  });

  it('daemon start --no-tls: no TLS listener, the status says null', async () => {
    const home = scratch.daemonHome();
    const started = await runCli(['daemon', 'start', '--no-tls'], { home });
    expect(started.exitCode, started.stderr).toBe(0);
    expect(started.stdout).not.toContain('https');
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { tlsPort: number | null };
    expect(status.tlsPort).toBeNull();
    expect(existsSync(join(home, 'tls'))).toBe(false);
  });
});
