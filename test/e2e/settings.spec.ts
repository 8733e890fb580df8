import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { examples, runCli, tempHome } from '../helpers/cli.js';

// A bad port or home is refused by the command, in the user's terminal, before anything starts.

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function home(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  return home;
}

describe('settings given to a command', () => {
  it('paasmaker up --proxy-port abc: a usage error naming the flag, exit 2, no stack, nothing started', async () => {
    const dir = home();
    const result = await runCli(['up', join(examples, 'hello-node'), '--proxy-port', 'abc'], { home: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("error: --proxy-port abc: the router's port must be a whole number from 0 to 65535 (0 picks a free one)");
    expect(result.stderr).toMatch(/hint: for example: --proxy-port 8080/);
    expect(result.stderr).not.toMatch(/internal error|    at /);
    expect(existsSync(join(dir, 'state.db'))).toBe(false);
  });

  it('PAASMAKER_DNS_PORT=x paasmaker doctor: the variable is named as the environment\'s, exit 1, no checks printed', async () => {
    const result = await runCli(['doctor'], { home: home(), env: { PAASMAKER_DNS_PORT: 'x' } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("error: PAASMAKER_DNS_PORT=x (environment): the DNS responder's port must be a whole number from 0 to 65535");
    expect(result.stderr).toContain('unset PAASMAKER_DNS_PORT');
    expect(result.stdout).toBe('');
  });

  it('paasmaker daemon start --api-port 70000 is refused here, not in the daemon\'s log, and no daemon starts', async () => {
    const dir = home();
    const result = await runCli(['daemon', 'start', '--api-port', '70000'], { home: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("error: --api-port 70000: the API's port must be a whole number from 0 to 65535");
    expect(existsSync(join(dir, 'daemon.json'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('paasmaker up -d with PAASMAKER_PROXY_PORT=1.5 says so before starting a daemon', async () => {
    const dir = home();
    const result = await runCli(['up', '-d', join(examples, 'hello-node')], { home: dir, env: { PAASMAKER_PROXY_PORT: '1.5' } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('error: PAASMAKER_PROXY_PORT=1.5 (environment)');
    expect(existsSync(join(dir, 'daemon.json'))).toBe(false);
  });

  it('paasmaker dns setup --port 0 is refused: the system resolver needs a fixed port', async () => {
    const result = await runCli(['dns', 'setup', '--port', '0'], { home: home() });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("error: --port 0: the system resolver needs the DNS responder's fixed port");
    const chosen = await runCli(['dns', 'setup', '--port', '5300'], { home: home() });
    if (process.platform === 'linux') expect(chosen.stdout).toContain('DNS=127.0.0.1:5300');
  });

  it('PAASMAKER_MAX_CONNECTIONS=lots paasmaker up is refused before the router starts', async () => {
    const result = await runCli(['up', join(examples, 'hello-node'), '--no-tui'], { home: home(), env: { PAASMAKER_MAX_CONNECTIONS: 'lots' } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("error: PAASMAKER_MAX_CONNECTIONS=lots (environment): the router's cap on open client connections must be a whole number");
  });
});
