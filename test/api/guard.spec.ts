import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../src/api/server.js';
import { Platform } from '../../src/engine/index.js';
import { sessionCookieOf, tcpRequest } from '../helpers/auth.js';
import { apiRequest } from '../helpers/cli.js';

// The API's guard in process (where a mutation check reaches it), over a real
// socket and a real TCP listener: foreign Host and Origin, no or a bad
// credential, a role without the permission, a session's CSRF value.

let home: string;
let platform: Platform;
let api: ApiServer;
let socket: string;
let port: number;
let viewerToken: string;
let developerToken: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'pm-guard-'));
  platform = await Platform.open({ home });
  api = new ApiServer({ platform, status: () => ({ pid: process.pid, socket: '', proxyPort: null, apiPort: null, uptime: 0, apps: [] }), shutdown: () => undefined }, { log: () => undefined });
  socket = join(home, 'api.sock');
  await api.listenSocket(socket);
  port = await api.listenTcp(0);
  const owner = (method: string, path: string, body?: unknown) => apiRequest(socket, method, path, { body });
  expect((await owner('POST', '/api/v1/users', { name: 'vic', role: 'viewer' })).status).toBe(200);
  expect((await owner('POST', '/api/v1/users', { name: 'dev', role: 'developer', password: 'correct horse battery' })).status).toBe(200);
  viewerToken = (await owner('POST', '/api/v1/tokens', { user: 'vic' })).json.token;
  developerToken = (await owner('POST', '/api/v1/tokens', { user: 'dev' })).json.token;
}, 30_000);

afterAll(async () => {
  await api?.close();
  await platform?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the API guard', () => {
  it('refuses a foreign Host or Origin (403 FORBIDDEN) even with a valid token; its own names and a same-host Origin pass', async () => {
    const status = (headers: Record<string, string>) => tcpRequest(port, 'GET', '/api/v1/status', { token: developerToken, headers });
    for (const headers of [{ host: 'evil.example' }, { host: `rebound.example:${port}` }, { origin: 'http://evil.example' }, { origin: `http://localhost:${port}` }, { origin: 'not a url' }, { origin: `http://evil.example:${port}` }]) {
      const answer = await status(headers);
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(answer.json.code).toBe('FORBIDDEN');
      expect(answer.json.error).toMatch(headers.host ? /^Host ".*" is not this machine$/ : /^Origin ".*" is not allowed$/);
    }
    for (const headers of [{}, { origin: `http://127.0.0.1:${port}` }, { host: `localhost:${port}`, origin: `http://localhost:${port}` }, { host: `paasmaker.localhost:${port}`, origin: `http://paasmaker.localhost:${port}` }, { host: 'paasmaker' }, { host: `[::1]:${port}` }]) {
      expect((await status(headers)).status, JSON.stringify(headers)).toBe(200);
    }
    // The socket's owner too: a page cannot reach it through a foreign Origin.
    expect((await apiRequest(socket, 'GET', '/api/v1/status', { headers: { origin: 'http://evil.example' } })).status).toBe(403);
  });

  it('over TCP, no token or an unknown one is 401 UNAUTHORIZED; signing in stays open', async () => {
    for (const token of [undefined, 'pm_nope']) {
      const answer = await tcpRequest(port, 'GET', '/api/v1/status', { token });
      expect(answer.status).toBe(401);
      expect(answer.json.code).toBe('UNAUTHORIZED');
    }
    expect((await tcpRequest(port, 'POST', '/api/v1/session', { body: { user: 'dev', password: 'wrong horse battery' } })).json.code).toBe('UNAUTHORIZED');
    expect((await tcpRequest(port, 'POST', '/api/v1/session', { body: { user: 'dev', password: 'correct horse battery' } })).status).toBe(200);
  });

  it('a viewer reads but may not change: 403 FORBIDDEN naming the permission', async () => {
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
    const cookie = sessionCookieOf(await tcpRequest(port, 'POST', '/api/v1/session', { body: { user: 'dev', password: 'correct horse battery' } }));
    const session = await tcpRequest(port, 'GET', '/api/v1/session', { headers: { cookie } });
    expect(session.status).toBe(200);
    const csrf = session.json.csrf as string;
    const create = (headers: Record<string, string>) => tcpRequest(port, 'POST', '/api/v1/tokens', { headers: { cookie, ...headers }, body: { name: 'from the console' } });
    const missing = await create({});
    expect(missing).toMatchObject({ status: 403, json: { code: 'CSRF' } });
    expect(missing.json.error).toMatch(/missing/);
    for (const wrong of [csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A'), csrf.slice(1), `${csrf}x`]) {
      const answer = await create({ 'x-csrf-token': wrong });
      expect(answer).toMatchObject({ status: 403, json: { code: 'CSRF' } });
      expect(answer.json.error).toMatch(/does not match/);
    }
    expect((await create({ 'x-csrf-token': csrf })).status).toBe(200);
    expect((await tcpRequest(port, 'POST', '/api/v1/tokens', { token: developerToken, body: { name: 'by token' } })).status).toBe(200);
    const tokens = (await apiRequest(socket, 'GET', '/api/v1/tokens?user=dev')).json as Array<{ name: string }>;
    expect(tokens.map((token) => token.name).sort()).toEqual(['by token', 'cli', 'from the console']);
  });
});
