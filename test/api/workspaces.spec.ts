import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tcpRequest, userToken } from '../helpers/auth.js';
import { apiRequest, runCli, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';

// Workspaces: a developer acts on the apps of the workspaces they hold the
// role in, and does not even see the others.

let home: string;
let port: number;
const dirs: string[] = [];
let cleanup: () => Promise<void>;

function project(name: string, workspace: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-workspaces-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'paasmaker.yml'),
    [
      'application:',
      `  name: ${name}`,
      `  workspace: ${workspace}`,
      'instances:',
      '  web:',
      `    command: node -e "require('http').createServer((q, s) => s.end('${name}')).listen(process.env.PORT, '127.0.0.1')"`,
      '',
    ].join('\n'),
  );
  return dir;
}

beforeAll(async () => {
  const temp = tempHome();
  home = temp.home;
  cleanup = async () => {
    await stopDaemonAndRemove(home, temp.cleanup);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  expect((await runCli(['daemon', 'start', '--api-port', '0'], { home })).exitCode).toBe(0);
  port = (JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { apiPort: number }).apiPort;
  for (const [name, workspace] of [
    ['alpha', 'a'],
    ['beta', 'b'],
  ]) {
    const up = await runCli(['up', '-d', project(name!, workspace!)], { home });
    expect(up.exitCode, up.stderr).toBe(0);
  }
}, 120_000);

afterAll(async () => cleanup?.());

/** A user's event stream, collected until `done` says enough. */
function collectEvents(token: string): { text: () => string; close: () => void; ended: () => boolean } {
  let text = '';
  let ended = false;
  const req = request({ host: '127.0.0.1', port, path: '/api/v1/events', headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` }, agent: false }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => (ended = true));
  });
  req.on('error', () => undefined);
  req.end();
  return { text: () => text, close: () => req.destroy(), ended: () => ended };
}

describe('a developer in workspace a', () => {
  it('restarts an app in a, gets 403 on one in b, and sees only a in listings and on the event stream', async () => {
    // The manifest put each app in its workspace (made on the way).
    const apps = (await apiRequest(join(home, 'paasmaker.sock'), 'GET', '/api/v1/apps')).json as Array<{ name: string; workspace: string }>;
    expect(apps.map((app) => [app.name, app.workspace])).toEqual([
      ['alpha', 'a'],
      ['beta', 'b'],
    ]);
    // The app is told its workspace, as the original's PM_METADATA did.
    const env = (await apiRequest(join(home, 'paasmaker.sock'), 'GET', '/api/v1/apps/alpha/env')).json as Record<string, string>;
    expect(JSON.parse(env.PM_METADATA!)).toMatchObject({ application: { name: 'alpha', workspace: 'a' }, workspace: { name: 'a' } });
    const dev = await userToken(home, 'dev', 'developer', 'a');
    const events = collectEvents(dev);
    try {
      expect(await tcpRequest(port, 'POST', '/api/v1/apps/alpha/restart', { token: dev, body: {} })).toMatchObject({ status: 200, json: { ok: true } });
      expect(await tcpRequest(port, 'POST', '/api/v1/apps/beta/restart', { token: dev, body: {} })).toMatchObject({
        status: 403,
        json: { code: 'FORBIDDEN', error: 'user "dev" lacks the permission APPLICATION_DEPLOY in workspace "b"' },
      });
      expect((await tcpRequest(port, 'GET', '/api/v1/apps/beta', { token: dev })).status).toBe(403);
      // The owner restarts beta: its events do not reach the developer's stream; alpha's did.
      expect((await apiRequest(join(home, 'paasmaker.sock'), 'POST', '/api/v1/apps/beta/restart', { body: {} })).json).toEqual({ ok: true });
      // Then alpha again: the stream is in order, so once alpha's new events are there, beta's would be too.
      const before = events.text().length;
      expect((await tcpRequest(port, 'POST', '/api/v1/apps/alpha/restart', { token: dev, body: {} })).status).toBe(200);
      await until(() => events.text().slice(before).includes('"app":"alpha"'), 10_000, "alpha's events on the developer's stream");
      expect(events.text()).not.toContain('"app":"beta"');
    } finally {
      events.close();
    }

    const names = async (path: string, field = 'app') => [...new Set(((await tcpRequest(port, 'GET', path, { token: dev })).json as Array<Record<string, string>>).map((row) => row[field]))];
    expect(await names('/api/v1/apps', 'name')).toEqual(['alpha']);
    expect(await names('/api/v1/processes')).toEqual(['alpha']);
    expect(await names('/api/v1/jobs')).toEqual(['alpha']);
    expect(await names('/api/v1/workspaces', 'name')).toEqual(['a']);
    expect((await tcpRequest(port, 'GET', '/api/v1/status', { token: dev })).json.apps).toEqual(['alpha']);
    // Which app runs which runtime, too: only a's.
    const runtimes = (await tcpRequest(port, 'GET', '/api/v1/runtimes', { token: dev })).json as Array<{ instances: Array<{ app: string }> }>;
    const everyRuntime = (await apiRequest(join(home, 'paasmaker.sock'), 'GET', '/api/v1/runtimes')).json as Array<{ instances: Array<{ app: string }> }>;
    expect(new Set(everyRuntime.flatMap((row) => row.instances.map((instance) => instance.app)))).toEqual(new Set(['alpha', 'beta']));
    expect(runtimes.flatMap((row) => row.instances.map((instance) => instance.app))).toEqual(['alpha']);

    // Moved to a, beta is the developer's too.
    const moved = await runCli(['workspace', 'move', 'beta', 'a'], { home });
    expect(moved.exitCode, moved.stderr).toBe(0);
    expect(await names('/api/v1/apps', 'name')).toEqual(['alpha', 'beta']);
    expect((await tcpRequest(port, 'POST', '/api/v1/apps/beta/restart', { token: dev, body: {} })).status).toBe(200);
  }, 90_000);

  it("a folder naming another workspace's app cannot take it over, nor move an app where the caller may not", async () => {
    const dev = await userToken(home, 'mallory', 'developer', 'a');
    const omega = project('omega', 'b');
    expect((await runCli(['up', '-d', omega], { home })).exitCode).toBe(0);
    // A folder of mallory's whose manifest says omega lives in a (where mallory is a developer) must not take b's omega.
    const taken = await tcpRequest(port, 'POST', '/api/v1/apps', { token: dev, body: { directory: project('omega', 'a') } });
    expect(taken).toMatchObject({ status: 403, json: { code: 'FORBIDDEN', error: 'the caller lacks the permission APPLICATION_CREATE in workspace "b"' } });
    expect((await apiRequest(join(home, 'paasmaker.sock'), 'GET', '/api/v1/apps/omega')).json).toMatchObject({ directory: omega, workspace: 'b' });
    // A workspace that does not exist yet is WORKSPACE_EDIT's to make.
    expect(await tcpRequest(port, 'POST', '/api/v1/apps', { token: dev, body: { directory: project('delta', 'brand-new') } })).toMatchObject({ status: 403, json: { code: 'FORBIDDEN' } });
    expect((await apiRequest(join(home, 'paasmaker.sock'), 'GET', '/api/v1/workspaces')).json).not.toContainEqual(expect.objectContaining({ name: 'brand-new' }));
  }, 90_000);

  it('USER_EDIT alone neither gives roles nor acts as a stronger user (no admin token, no admin password)', async () => {
    const role = await runCli(['role', 'add', 'user-editor', 'USER_EDIT', 'USER_LIST'], { home });
    expect(role.exitCode, role.stderr).toBe(0);
    const editor = await userToken(home, 'ed', 'user-editor');
    const admin = ((await apiRequest(join(home, 'paasmaker.sock'), 'GET', '/api/v1/session')).json as { user: string }).user;
    expect(await tcpRequest(port, 'POST', '/api/v1/users', { token: editor, body: { name: 'sneaky', password: 'long-enough-1', role: 'admin' } })).toMatchObject({ status: 403, json: { code: 'FORBIDDEN' } });
    expect(await tcpRequest(port, 'POST', '/api/v1/tokens', { token: editor, body: { user: admin } })).toMatchObject({ status: 403, json: { code: 'FORBIDDEN' } });
    expect(await tcpRequest(port, 'POST', `/api/v1/users/${admin}/password`, { token: editor, body: { password: 'long-enough-2' } })).toMatchObject({ status: 403, json: { code: 'FORBIDDEN' } });
    // What it may do: add a user without a role, and act for one who holds no more than it does.
    expect((await tcpRequest(port, 'POST', '/api/v1/users', { token: editor, body: { name: 'plain' } })).status).toBe(200);
    expect((await tcpRequest(port, 'POST', '/api/v1/tokens', { token: editor, body: { user: 'plain' } })).status).toBe(200);
  }, 90_000);

  it("a user's event stream follows their rights: a role taken narrows it, a revoked token ends it", async () => {
    const token = await userToken(home, 'eve', 'developer', 'a');
    const grant = await runCli(['role', 'assign', 'eve', 'developer', '--workspace', 'b'], { home });
    expect(grant.exitCode, grant.stderr).toBe(0);
    const events = collectEvents(token);
    try {
      await until(() => events.text().includes(': paasmaker events'), 10_000, 'the stream to open');
      const gamma = project('gamma', 'b');
      expect((await runCli(['up', '-d', gamma], { home })).exitCode).toBe(0);
      await until(() => events.text().includes('"app":"gamma"'), 10_000, "gamma's events while eve holds a role in b");
      const taken = await runCli(['role', 'unassign', 'eve', 'developer', '--workspace', 'b'], { home });
      expect(taken.exitCode, taken.stderr).toBe(0);
      // Once the stream has been asked again (every 2 s), gamma's events no longer reach it; alpha's do.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const before = events.text().length;
      expect((await apiRequest(join(home, 'paasmaker.sock'), 'POST', '/api/v1/apps/gamma/restart', { body: {} })).json).toEqual({ ok: true });
      expect((await apiRequest(join(home, 'paasmaker.sock'), 'POST', '/api/v1/apps/alpha/restart', { body: {} })).json).toEqual({ ok: true });
      await until(() => events.text().slice(before).includes('"app":"alpha"'), 10_000, "alpha's events");
      expect(events.text().slice(before)).not.toContain('"app":"gamma"');

      const tokens = JSON.parse((await runCli(['token', 'list', '--json'], { home })).stdout) as Array<{ id: string; user: string }>;
      for (const row of tokens.filter((row) => row.user === 'eve')) expect((await runCli(['token', 'revoke', row.id], { home })).exitCode).toBe(0);
      await until(() => events.ended(), 10_000, 'the stream of a revoked token to end');
    } finally {
      events.close();
    }
  }, 90_000);
});
