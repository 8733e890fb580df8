import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../src/api/server.js';
import { Platform } from '../../src/engine/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { sessionCookieOf, tcpRequest } from '../helpers/auth.js';
import { apiRequest } from '../helpers/cli.js';

// The API's guard in process (where a mutation check reaches it), over a real
// socket and a real TCP listener: foreign Host and Origin, no or a bad
// credential, a role without the permission, a session's CSRF value.

interface Fixture {
  home: string;
  platform: Platform;
  api: ApiServer;
  socket: string;
  port: number;
  viewerToken: string;
  developerToken: string;
  blueToken: string;
}

let made: Promise<Fixture> | undefined;
const projects: string[] = [];

/**
 * One platform with two apps (red and blue, each in its workspace of that name), and
 * users: vic (viewer), dev (developer, with a password), wanda (developer in blue only).
 * Made by the first test that asks (not in a hook, so that a broken guard fails a test).
 */
function setup(): Promise<Fixture> {
  made ??= (async () => {
    const home = mkdtempSync(join(tmpdir(), 'pm-guard-'));
    const platform = await Platform.open({ home });
    const api = new ApiServer({ platform, status: () => ({ pid: process.pid, socket: '', proxyPort: null, apiPort: null, uptime: 0, apps: [] }), shutdown: () => undefined }, { log: () => undefined });
    const socket = join(home, 'api.sock');
    await api.listenSocket(socket);
    const port = await api.listenTcp(0);
    for (const app of ['red', 'blue']) {
      const project = mkdtempSync(join(tmpdir(), `pm-guard-${app}-`));
      projects.push(project);
      writeFileSync(join(project, 'paasmaker.yml'), `application:\n  name: ${app}\n  workspace: ${app}\ninstances:\n  worker:\n    command: node -e "setInterval(() => {}, 1000)"\n    standalone: true\n`);
      await platform.apply(loadManifest(project));
    }
    const owner = async (method: string, path: string, body?: unknown) => {
      const answer = await apiRequest(socket, method, path, { body });
      if (answer.status !== 200) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.json)}`);
      return answer.json;
    };
    await owner('POST', '/api/v1/users', { name: 'vic', role: 'viewer' });
    await owner('POST', '/api/v1/users', { name: 'dev', role: 'developer', password: 'correct horse battery' });
    await owner('POST', '/api/v1/users', { name: 'wanda', role: 'developer', workspace: 'blue' });
    const token = async (user: string) => (await owner('POST', '/api/v1/tokens', { user })).token as string;
    return { home, platform, api, socket, port, viewerToken: await token('vic'), developerToken: await token('dev'), blueToken: await token('wanda') };
  })();
  return made;
}

afterAll(async () => {
  if (made) {
    const { api, platform, home } = await made;
    await api.close();
    await platform.close();
    rmSync(home, { recursive: true, force: true });
  }
  for (const project of projects) rmSync(project, { recursive: true, force: true });
}, 30_000);

describe('the API guard', () => {
  it('refuses a foreign Host or Origin (403 FORBIDDEN) even with a valid token; its own names and a same-host Origin pass', async () => {
    const { port, socket, developerToken } = await setup();
    const status = (headers: Record<string, string>) => tcpRequest(port, 'GET', '/api/v1/status', { token: developerToken, headers });
    for (const headers of [{ host: 'evil.example' }, { host: `rebound.example:${port}` }, { origin: 'http://evil.example' }, { origin: `http://localhost:${port}` }, { origin: 'not a url' }, { origin: `http://evil.example:${port}` }]) {
      const answer = await status(headers);
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(answer.json.code).toBe('FORBIDDEN');
      expect(answer.json.error).toMatch(headers.host ? /^Host ".*" is not this machine$/ : /^Origin ".*" is not allowed$/);
    }
    for (const headers of [{}, { origin: `http://127.0.0.1:${port}` }, { host: `localhost:${port}`, origin: `http://localhost:${port}` }, { host: `paasmaker.localhost:${port}`, origin: `http://paasmaker.localhost:${port}` }, { host: 'paasmaker' }, { host: `[::1]:${port}`, origin: `http://[::1]:${port}` }]) {
      expect((await status(headers)).status, JSON.stringify(headers)).toBe(200);
    }
    // The socket's owner too: a page cannot reach it through a foreign Origin.
    expect((await apiRequest(socket, 'GET', '/api/v1/status', { headers: { origin: 'http://evil.example' } })).status).toBe(403);
  });

  it('over TCP, no token or an unknown one is 401 UNAUTHORIZED; signing in stays open', async () => {
    const { port } = await setup();
    for (const token of [undefined, 'pm_nope']) {
      const answer = await tcpRequest(port, 'GET', '/api/v1/status', { token });
      expect(answer.status).toBe(401);
      expect(answer.json.code).toBe('UNAUTHORIZED');
    }
    expect((await tcpRequest(port, 'POST', '/api/v1/session', { body: { user: 'dev', password: 'wrong horse battery' } })).json.code).toBe('UNAUTHORIZED');
    expect((await tcpRequest(port, 'POST', '/api/v1/session', { body: { user: 'dev', password: 'correct horse battery' } })).status).toBe(200);
  });

  it('a viewer reads but may not change: 403 FORBIDDEN naming the permission', async () => {
    const { port, socket, viewerToken, developerToken } = await setup();
    expect((await tcpRequest(port, 'GET', '/api/v1/apps', { token: viewerToken })).status).toBe(200);
    const denied = await tcpRequest(port, 'POST', '/api/v1/users', { token: viewerToken, body: { name: 'eve' } });
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({ code: 'FORBIDDEN' });
    expect(denied.json.error).toContain('USER_EDIT');
    expect(denied.json.error).toContain('user "vic"');
    const developer = await tcpRequest(port, 'POST', '/api/v1/users', { token: developerToken, body: { name: 'eve' } });
    expect(developer.status).toBe(403);
    expect((await apiRequest(socket, 'GET', '/api/v1/users')).json.map((user: { name: string }) => user.name)).not.toContain('eve');
  });

  it('a session cookie that changes something needs the session\'s x-csrf-token: missing or wrong 403 CSRF, right 200; reads and bearer tokens need none', async () => {
    const { port, socket, developerToken } = await setup();
    const cookie = sessionCookieOf(await tcpRequest(port, 'POST', '/api/v1/session', { body: { user: 'dev', password: 'correct horse battery' } }));
    const session = await tcpRequest(port, 'GET', '/api/v1/session', { headers: { cookie } });
    expect(session.status).toBe(200);
    const csrf = session.json.csrf as string;
    const create = (headers: Record<string, string>) => tcpRequest(port, 'POST', '/api/v1/tokens', { headers: { cookie, ...headers }, body: { name: 'from the console' } });
    const missing = await create({});
    expect(missing).toMatchObject({ status: 403, json: { code: 'CSRF' } });
    expect(missing.json.error).toMatch(/missing/);
    expect(missing.json.hint).toContain('GET /api/v1/session');
    for (const wrong of [csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A'), csrf.slice(1), `${csrf}x`]) {
      const answer = await create({ 'x-csrf-token': wrong });
      expect(answer).toMatchObject({ status: 403, json: { code: 'CSRF' } });
      expect(answer.json.error).toMatch(/does not match/);
    }
    expect((await create({ 'x-csrf-token': csrf })).status).toBe(200);
    expect((await tcpRequest(port, 'POST', '/api/v1/tokens', { token: developerToken, body: { name: 'by token' } })).status).toBe(200);
    const tokens = (await apiRequest(socket, 'GET', '/api/v1/tokens?user=dev')).json as Array<{ name: string }>;
    expect(tokens.map((token) => token.name).sort()).toEqual(['by token', 'cli', 'from the console']);
    // A DELETE is a state change too.
    const consoleToken = tokens.find((token) => token.name === 'from the console') as unknown as { id: string };
    expect(await tcpRequest(port, 'DELETE', `/api/v1/tokens/${consoleToken.id}`, { headers: { cookie } })).toMatchObject({ status: 403, json: { code: 'CSRF' } });
    expect((await tcpRequest(port, 'DELETE', `/api/v1/tokens/${consoleToken.id}`, { headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(200);
  });

  it("a role in one workspace: that workspace's apps and jobs, 403 naming the other workspace, 404 for what does not exist", async () => {
    const { port, socket, blueToken } = await setup();
    const get = (path: string) => tcpRequest(port, 'GET', path, { token: blueToken });
    expect((await get('/api/v1/apps/blue')).status).toBe(200);
    const red = await get('/api/v1/apps/red');
    expect(red).toMatchObject({ status: 403, json: { code: 'FORBIDDEN' } });
    expect(red.json.error).toContain('WORKSPACE_VIEW in workspace "red"');
    expect(red.json.hint).toContain('paasmaker role assign wanda ROLE --workspace red');
    expect((await get('/api/v1/apps/nope')).json.code).toBe('APP_NOT_FOUND');
    expect((await tcpRequest(port, 'POST', '/api/v1/apps/red/restart', { token: blueToken, body: {} })).status).toBe(403);
    // A job is checked in its app's workspace.
    const jobs = (await apiRequest(socket, 'GET', '/api/v1/jobs')).json as Array<{ id: string; app: string }>;
    const redJob = jobs.find((job) => job.app === 'red')!;
    const blueJob = jobs.find((job) => job.app === 'blue')!;
    const redAnswer = await get(`/api/v1/jobs/${redJob.id}`);
    expect(redAnswer).toMatchObject({ status: 403, json: { code: 'FORBIDDEN' } });
    expect(redAnswer.json.error).toContain('in workspace "red"');
    expect((await get(`/api/v1/jobs/${blueJob.id}`)).status).toBe(200);
    expect((await get('/api/v1/jobs/nope')).status).toBe(404);
  });

  it("listings hold only what the caller may see: a role in blue lists blue's apps and processes; a viewer everywhere and the owner list both", async () => {
    const { port, socket, blueToken, viewerToken } = await setup();
    const names = (rows: Array<{ name?: string; app?: string }>) => [...new Set(rows.map((row) => row.name ?? row.app))].sort();
    expect(names((await tcpRequest(port, 'GET', '/api/v1/apps', { token: blueToken })).json)).toEqual(['blue']);
    expect(names((await tcpRequest(port, 'GET', '/api/v1/processes', { token: blueToken })).json)).toEqual(['blue']);
    expect(names((await tcpRequest(port, 'GET', '/api/v1/apps', { token: viewerToken })).json)).toEqual(['blue', 'red']);
    expect(names((await tcpRequest(port, 'GET', '/api/v1/processes', { token: viewerToken })).json)).toEqual(['blue', 'red']);
    expect(names((await apiRequest(socket, 'GET', '/api/v1/apps')).json)).toEqual(['blue', 'red']);
  });
});
