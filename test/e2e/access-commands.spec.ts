import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tcpRequest } from '../helpers/auth.js';
import { runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';

// paasmaker user, role, workspace and token: the daemon's state through its
// API, nothing removed without saying so.

let home: string;
let port: number;
let dir: string;
let cleanup: () => Promise<void>;

const cli = (args: string[], input?: string) => runCli(args, { home, ...(input === undefined ? {} : { input }) });

beforeAll(async () => {
  const temp = tempHome();
  home = temp.home;
  dir = mkdtempSync(join(tmpdir(), 'pm-access-'));
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: shop\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"\n`);
  cleanup = async () => {
    await stopDaemonAndRemove(home, temp.cleanup);
    rmSync(dir, { recursive: true, force: true });
  };
  expect((await cli(['daemon', 'start', '--api-port', '0'])).exitCode).toBe(0);
  port = (JSON.parse((await cli(['daemon', 'status', '--json'])).stdout) as { apiPort: number }).apiPort;
  const up = await cli(['up', '-d', dir]);
  expect(up.exitCode, up.stderr).toBe(0);
}, 60_000);

afterAll(async () => cleanup?.());

describe('paasmaker user, role, workspace, token', () => {
  it('the local administrator is there from the start: admin everywhere, no password', async () => {
    const users = JSON.parse((await cli(['user', 'list', '--json'])).stdout) as Array<{ name: string; roles: string[]; password: boolean }>;
    expect(users).toEqual([expect.objectContaining({ name: userInfo().username, roles: ['admin'], password: false })]);
    const removed = await cli(['user', 'remove', userInfo().username, '--yes']);
    expect(removed.exitCode).toBe(1);
    expect(removed.stderr).toContain('local administrator');
  });

  it('workspaces, a custom role, a user holding it in one workspace, and their token: made, used, and removed only when confirmed', async () => {
    expect((await cli(['workspace', 'add', 'team'])).stdout).toBe('added workspace team');
    expect((await cli(['workspace', 'add', 'team'])).stderr).toContain('exists already');
    expect((await cli(['workspace', 'move', 'shop', 'team'])).stdout).toBe('shop is in workspace team');
    const workspaces = JSON.parse((await cli(['workspace', 'list', '--json'])).stdout) as Array<{ name: string; apps: string[] }>;
    expect(workspaces.map((workspace) => [workspace.name, workspace.apps])).toEqual([
      ['default', []],
      ['team', ['shop']],
    ]);

    const typo = await cli(['role', 'add', 'deployer', 'WORKSPACE_VIEW', 'APPLICATION_DEPLOYY']);
    expect(typo.exitCode).toBe(1);
    expect(typo.stderr).toContain('did you mean APPLICATION_DEPLOY?');
    expect((await cli(['role', 'add', 'deployer', 'WORKSPACE_VIEW', 'APPLICATION_DEPLOY'])).exitCode).toBe(0);
    const roles = JSON.parse((await cli(['role', 'list', '--json'])).stdout) as Array<{ name: string; builtIn: boolean }>;
    expect(roles.map((role) => [role.name, role.builtIn])).toEqual([
      ['admin', true],
      ['developer', true],
      ['viewer', true],
      ['deployer', false],
    ]);

    const added = await cli(['user', 'add', 'ana', '--password-stdin'], 'a long password\n');
    expect(added.stdout).toBe('added user ana (no role yet: paasmaker role assign gives one)');
    expect((await cli(['role', 'assign', 'ana', 'deployer', '--workspace', 'team'])).stdout).toBe('ana is deployer in workspace team');
    const created = await cli(['token', 'create', '--user', 'ana', '--name', 'laptop', '--json']);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    expect(token).toMatch(/^pm_/);
    // The plain token is in no file of the platform's home (state.db and its log keep its sha256).
    for (const name of readdirSync(home).filter((file) => file.startsWith('state.db'))) expect(readFileSync(join(home, name)).includes(token)).toBe(false);
    const plain = await cli(['token', 'create', '--user', 'ana']);
    expect(plain.stdout).toMatch(/^pm_[A-Za-z0-9_-]{43}$/);
    expect(plain.stderr).toMatch(/for ana; it is not shown again/);

    // The role works: ana restarts shop (in team), and may do nothing else.
    expect((await tcpRequest(port, 'POST', '/api/v1/apps/shop/restart', { token, body: {} })).status).toBe(200);
    expect((await tcpRequest(port, 'POST', '/api/v1/apps/shop/down', { token })).status).toBe(200);
    expect((await tcpRequest(port, 'GET', '/api/v1/users', { token })).status).toBe(403);
    const list = await cli(['token', 'list', '--user', 'ana', '--json']);
    const tokens = JSON.parse(list.stdout) as Array<{ id: string; name: string; lastUsed: number | null }>;
    expect(tokens.find((row) => row.id === id)).toMatchObject({ name: 'laptop', lastUsed: expect.any(Number) });
    expect(list.stdout).not.toContain('pm_');

    // Nothing with dependants goes silently.
    const refusedWorkspace = await cli(['workspace', 'remove', 'team', '--yes']);
    expect(refusedWorkspace.exitCode).toBe(1);
    expect(refusedWorkspace.stderr).toContain('workspace "team" holds shop');
    const refusedRole = await cli(['role', 'remove', 'deployer']);
    expect(refusedRole.exitCode).toBe(1);
    expect(refusedRole.stderr).toMatch(/held by ana in team[\s\S]*--yes/);
    const refusedUser = await cli(['user', 'remove', 'ana']);
    expect(refusedUser.exitCode).toBe(1);
    expect(refusedUser.stderr).toMatch(/role deployer@team, token [0-9a-f]+ \(laptop\)[\s\S]*paasmaker user remove ana --yes/);
    expect(JSON.parse((await cli(['user', 'list', '--json'])).stdout).map((user: { name: string }) => user.name)).toContain('ana');

    expect((await cli(['token', 'revoke', id])).stdout).toBe(`revoked token ${id} (laptop) of ana`);
    expect((await tcpRequest(port, 'GET', '/api/v1/apps', { token })).status).toBe(401);
    expect((await cli(['role', 'unassign', 'ana', 'deployer', '--workspace', 'team'])).exitCode).toBe(0);
    expect((await cli(['role', 'remove', 'deployer'])).stdout).toBe('removed role deployer');
    expect((await cli(['role', 'remove', 'viewer'])).stderr).toContain('built-in role');
    expect((await cli(['user', 'remove', 'ana', '--yes'])).stdout).toMatch(/^removed user ana, with token/);
    expect((await cli(['workspace', 'move', 'shop', 'default'])).exitCode).toBe(0);
    expect((await cli(['workspace', 'remove', 'team'])).stdout).toBe('removed workspace team');
    expect((await cli(['workspace', 'remove', 'default'])).stderr).toContain('always exists');
  }, 60_000);

  it('user passwd sets a password the console sign-in takes', async () => {
    expect((await cli(['user', 'add', 'ben', '--role', 'viewer'])).exitCode).toBe(0);
    expect((await tcpRequest(port, 'POST', '/api/v1/session', { body: { user: 'ben', password: 'a new password' } })).status).toBe(401);
    const set = await cli(['user', 'passwd', 'ben', '--password-stdin'], 'a new password\n');
    expect(set.stdout).toBe('set the password of ben');
    expect((await tcpRequest(port, 'POST', '/api/v1/session', { body: { user: 'ben', password: 'a new password' } })).status).toBe(200);
    const short = await cli(['user', 'passwd', 'ben', '--password-stdin'], 'short\n');
    expect(short.exitCode).toBe(1);
    expect(short.stderr).toContain('at least 8 characters');
  });
});
