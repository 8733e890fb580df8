import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { filterListed, viewer } from '../../src/api/guard.js';
import type { ApiContext, Route } from '../../src/api/route.js';
import { ApiServer } from '../../src/api/server.js';
import { Access, type Permission } from '../../src/auth/index.js';
import { Platform } from '../../src/engine/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { sessionCookieOf, tcpRequest } from '../helpers/auth.js';
import { apiRequest } from '../helpers/cli.js';

// The API's guard in process (where a mutation check reaches it), over a real
// socket and a real TCP listener: foreign Host and Origin, no or a bad
// credential, a role without the permission (everywhere, in the app's workspace, in
// some workspace), a session's CSRF value; and what a user's listings and event
// stream show of the apps of other workspaces.

interface Fixture {
  home: string;
  platform: Platform;
  api: ApiServer;
  socket: string;
  port: number;
  viewerToken: string;
  developerToken: string;
  blueToken: string;
  blueAdminToken: string;
  defaultToken: string;
  redOverviewToken: string;
  splitToken: string;
}

let made: Promise<Fixture> | undefined;
const projects: string[] = [];

/**
 * One platform with two apps (red and blue, each in its workspace of that name), and
 * users: vic (viewer), dev (developer, with a password), wanda (developer in blue only),
 * olga (admin in blue only), dora (viewer in default only), sam (a role holding
 * SYSTEM_OVERVIEW alone, in red only), lou (that role in red, and one holding
 * WORKSPACE_VIEW alone in blue).
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
    await owner('POST', '/api/v1/users', { name: 'olga', role: 'admin', workspace: 'blue' });
    await owner('POST', '/api/v1/users', { name: 'dora', role: 'viewer', workspace: 'default' });
    await owner('POST', '/api/v1/roles', { name: 'overseer', permissions: ['SYSTEM_OVERVIEW'] });
    await owner('POST', '/api/v1/users', { name: 'sam', role: 'overseer', workspace: 'red' });
    await owner('POST', '/api/v1/roles', { name: 'looker', permissions: ['WORKSPACE_VIEW'] });
    await owner('POST', '/api/v1/users', { name: 'lou', role: 'overseer', workspace: 'red' });
    await owner('POST', '/api/v1/allocations', { user: 'lou', role: 'looker', workspace: 'blue' });
    const token = async (user: string) => (await owner('POST', '/api/v1/tokens', { user })).token as string;
    return {
      home,
      platform,
      api,
      socket,
      port,
      viewerToken: await token('vic'),
      developerToken: await token('dev'),
      blueToken: await token('wanda'),
      blueAdminToken: await token('olga'),
      defaultToken: await token('dora'),
      redOverviewToken: await token('sam'),
      splitToken: await token('lou'),
    };
  })();
  return made;
}

/** The status line of GET /api/v1/status sent as HTTP/1.0 with no Host header (Node takes that only from HTTP/1.0). */
function withoutHost(port: number, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET /api/v1/status HTTP/1.0\r\nAuthorization: Bearer ${token}\r\n\r\n`));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer.split('\r\n')[0]!));
    socket.on('error', reject);
  });
}

/** The platform.warning texts a user's event stream (over TCP, by token) carries, up to and with `last`. */
function streamedWarnings(port: number, token: string): { open: Promise<void>; until: (last: string) => Promise<string[]> } {
  const texts: string[] = [];
  let buffer = '';
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const waiters: Array<{ last: string; resolve: (texts: string[]) => void }> = [];
  const req = request({ host: '127.0.0.1', port, path: '/api/v1/events', headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` }, agent: false }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (frame.startsWith(': paasmaker events')) opened();
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event !== 'platform.warning' || data === undefined) continue;
        const text = (JSON.parse(data) as { text: string }).text;
        texts.push(text);
        for (const waiter of waiters) if (waiter.last === text) waiter.resolve([...texts]);
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  const until = (last: string) =>
    new Promise<string[]>((resolve, reject) => {
      if (texts.includes(last)) {
        req.destroy();
        return resolve([...texts]);
      }
      const timer = setTimeout(() => reject(new Error(`"${last}" never came; the stream carried ${JSON.stringify(texts)}`)), 10_000);
      waiters.push({
        last,
        resolve: (seen) => {
          clearTimeout(timer);
          req.destroy();
          resolve(seen);
        },
      });
    });
  return { open, until };
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
    // A request with no Host at all (HTTP/1.0 allows it) comes from a tool, never from a browser's page.
    expect(await withoutHost(port, developerToken)).toMatch(/^HTTP\/1\.1 200 /);
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
    expect(red.json.hint).toBe('a role holding it gives it: paasmaker role assign wanda ROLE --workspace red (paasmaker role list shows what each holds)');
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

  it("a global route's permission held in one workspace only is refused, naming no workspace; a 'somewhere' route takes it from any workspace", async () => {
    const { port, socket, blueAdminToken, blueToken, redOverviewToken } = await setup();
    // olga is an admin in blue only: blue's app is hers, the platform's users and roles are not.
    expect((await tcpRequest(port, 'GET', '/api/v1/apps/blue', { token: blueAdminToken })).status).toBe(200);
    const users = await tcpRequest(port, 'GET', '/api/v1/users', { token: blueAdminToken });
    expect(users).toMatchObject({ status: 403, json: { code: 'FORBIDDEN', error: 'user "olga" lacks the permission USER_LIST' } });
    expect(users.json.hint).toBe('a role holding it gives it: paasmaker role assign olga ROLE (paasmaker role list shows what each holds)');
    expect((await tcpRequest(port, 'POST', '/api/v1/users', { token: blueAdminToken, body: { name: 'mallory' } })).status).toBe(403);
    expect((await tcpRequest(port, 'GET', '/api/v1/roles', { token: blueAdminToken })).status).toBe(403);
    expect((await apiRequest(socket, 'GET', '/api/v1/users')).json.map((user: { name: string }) => user.name)).not.toContain('mallory');
    // GET /api/v1/workspaces needs WORKSPACE_VIEW somewhere: wanda (blue) gets it, with blue only; sam holds it nowhere.
    const workspaces = await tcpRequest(port, 'GET', '/api/v1/workspaces', { token: blueToken });
    expect(workspaces.status).toBe(200);
    expect(workspaces.json.map((workspace: { name: string; apps: string[] }) => [workspace.name, workspace.apps])).toEqual([['blue', ['blue']]]);
    const nowhere = await tcpRequest(port, 'GET', '/api/v1/workspaces', { token: redOverviewToken });
    expect(nowhere).toMatchObject({ status: 403, json: { code: 'FORBIDDEN', error: 'user "sam" lacks the permission WORKSPACE_VIEW' } });
    // sam's SYSTEM_OVERVIEW in red opens the platform's plugin list (a 'somewhere' route) but not a listing of apps (WORKSPACE_VIEW).
    expect((await tcpRequest(port, 'GET', '/api/v1/plugins', { token: redOverviewToken })).status).toBe(200);
    expect((await tcpRequest(port, 'GET', '/api/v1/apps', { token: redOverviewToken })).status).toBe(403);
    // An app that does not exist is in no workspace: asked by one who holds WORKSPACE_VIEW nowhere, the refusal names none.
    const unknown = await tcpRequest(port, 'GET', '/api/v1/apps/nope', { token: redOverviewToken });
    expect(unknown).toMatchObject({ status: 403, json: { code: 'FORBIDDEN', error: 'user "sam" lacks the permission WORKSPACE_VIEW' } });
    expect(unknown.json.hint).toBe('a role holding it gives it: paasmaker role assign sam ROLE (paasmaker role list shows what each holds)');
  });

  it('a job of an app the platform has no record of is checked in workspace default', async () => {
    const { port, platform, defaultToken, blueToken } = await setup();
    platform.state.jobs.create({ id: 'ghost-job', parent: null, root: 'ghost-job', app: 'ghost', title: 'deploy ghost', ownerPid: null, ownerStart: null });
    expect((await tcpRequest(port, 'GET', '/api/v1/jobs/ghost-job', { token: defaultToken })).status).toBe(200);
    const refused = await tcpRequest(port, 'GET', '/api/v1/jobs/ghost-job', { token: blueToken });
    expect(refused).toMatchObject({ status: 403, json: { code: 'FORBIDDEN', error: 'user "wanda" lacks the permission WORKSPACE_VIEW in workspace "default"' } });
  });

  it("warnings list those of the apps the caller views with SYSTEM_OVERVIEW there; the platform's own only to a caller holding it everywhere; an app of no record counts as in default", async () => {
    const { port, socket, platform, viewerToken, blueToken, defaultToken, redOverviewToken, splitToken } = await setup();
    platform.warnings.raise('listed: red is unwell', 'red');
    platform.warnings.raise('listed: blue is unwell', 'blue');
    platform.warnings.raise('listed: ghost is unwell', 'ghost');
    platform.warnings.raise('listed: the disk is full', null);
    const listed = async (token?: string) => {
      const answer = token ? await tcpRequest(port, 'GET', '/api/v1/warnings', { token }) : await apiRequest(socket, 'GET', '/api/v1/warnings');
      expect(answer.status).toBe(200);
      return (answer.json as Array<{ text: string }>).map((row) => row.text).filter((text) => text.startsWith('listed: '));
    };
    const all = ['listed: red is unwell', 'listed: blue is unwell', 'listed: ghost is unwell', 'listed: the disk is full'];
    expect(await listed()).toEqual(all);
    expect(await listed(viewerToken)).toEqual(all);
    expect(await listed(blueToken)).toEqual(['listed: blue is unwell']);
    expect(await listed(defaultToken)).toEqual(['listed: ghost is unwell']);
    // SYSTEM_OVERVIEW in red without WORKSPACE_VIEW there: red is not an app sam may see.
    expect(await listed(redOverviewToken)).toEqual([]);
    // lou views blue without SYSTEM_OVERVIEW there, and holds it in red without viewing red: neither app's.
    expect(await listed(splitToken)).toEqual([]);
  });

  it("a user's event stream carries the events of the apps they view, and the platform's own", async () => {
    const { port, platform, viewerToken, blueToken, defaultToken, redOverviewToken } = await setup();
    const streams = { vic: streamedWarnings(port, viewerToken), wanda: streamedWarnings(port, blueToken), dora: streamedWarnings(port, defaultToken), sam: streamedWarnings(port, redOverviewToken) };
    await Promise.all(Object.values(streams).map((stream) => stream.open));
    platform.warnings.raise('streamed: red is unwell', 'red');
    platform.warnings.raise('streamed: blue is unwell', 'blue');
    platform.warnings.raise('streamed: ghost is unwell', 'ghost');
    platform.warnings.raise('streamed: the disk is full', null);
    const seen = async (stream: ReturnType<typeof streamedWarnings>) => (await stream.until('streamed: the disk is full')).filter((text) => text.startsWith('streamed: '));
    expect(await seen(streams.vic)).toEqual(['streamed: red is unwell', 'streamed: blue is unwell', 'streamed: ghost is unwell', 'streamed: the disk is full']);
    expect(await seen(streams.wanda)).toEqual(['streamed: blue is unwell', 'streamed: the disk is full']);
    expect(await seen(streams.dora)).toEqual(['streamed: ghost is unwell', 'streamed: the disk is full']);
    expect(await seen(streams.sam)).toEqual(['streamed: the disk is full']);
  });

  it("who may see an app: by the permission in its workspace; the platform's own lines ('') only to those who view everything; an app's move is seen within a second", async () => {
    const { platform } = await setup();
    const { state } = platform;
    const as = (user: string) => ({ caller: { kind: 'user' as const, user, via: 'token' as const }, access: Access.of(state, user), platform });
    const sees = (user: string, permission?: Permission) => {
      const may = viewer(as(user), permission);
      return ['red', 'blue', 'ghost', ''].filter((app) => may(app));
    };
    expect(['red', 'blue', 'ghost', ''].filter(viewer({ caller: { kind: 'owner' }, access: Access.everything(), platform }))).toEqual(['red', 'blue', 'ghost', '']);
    expect(sees('vic')).toEqual(['red', 'blue', 'ghost', '']);
    expect(sees('wanda')).toEqual(['blue']);
    expect(sees('dora')).toEqual(['ghost']);
    expect(sees('sam')).toEqual([]);
    expect(sees('sam', 'SYSTEM_OVERVIEW')).toEqual(['red']);
    expect(sees('wanda', 'SERVICE_VIEW')).toEqual(['blue']);
    expect(sees('dora', 'SERVICE_VIEW')).toEqual(['ghost']);
    // The apps' workspaces are read at most once a second (an event stream asks for each event): red and blue swap workspaces.
    const wanda = viewer(as('wanda'));
    expect([wanda('red'), wanda('blue')]).toEqual([false, true]);
    try {
      state.workspaces.moveApp('red', 'blue');
      state.workspaces.moveApp('blue', 'red');
      expect([wanda('red'), wanda('blue')]).toEqual([false, true]);
      expect(sees('wanda')).toEqual(['red']);
      await sleep(1100);
      expect([wanda('red'), wanda('blue')]).toEqual([true, false]);
    } finally {
      state.workspaces.moveApp('red', 'red');
      state.workspaces.moveApp('blue', 'blue');
    }
  });

  it("a listing open to every signed-in caller keeps the rows of no app and those of the apps the caller may see", async () => {
    const { platform } = await setup();
    const rows = [{ app: 'red' }, { app: 'blue' }, { app: null }, { app: 'ghost' }, {}];
    const listing = (permission: Route['permission'], user?: string) => {
      const route: Route = { method: 'GET', path: '/api/v1/rows', summary: 'rows', permission, scope: 'listed', response: z.array(z.unknown()), handle: () => rows };
      const who = user === undefined ? { caller: { kind: 'owner' as const }, access: Access.everything(), platform } : { caller: { kind: 'user' as const, user, via: 'token' as const }, access: Access.of(platform.state, user), platform };
      const context = { ...who, mayView: viewer(who) } as Pick<ApiContext, 'caller' | 'access' | 'platform' | 'mayView'> as ApiContext;
      return filterListed(route, context, rows);
    };
    for (const permission of ['signed-in', 'anyone'] as const) {
      expect(listing(permission)).toEqual(rows);
      expect(listing(permission, 'vic')).toEqual(rows);
      expect(listing(permission, 'wanda')).toEqual([{ app: 'blue' }, { app: null }, {}]);
      expect(listing(permission, 'dora')).toEqual([{ app: null }, { app: 'ghost' }, {}]);
      expect(listing(permission, 'sam')).toEqual([{ app: null }, {}]);
    }
    // With a permission, a row of no app needs it everywhere.
    expect(listing('WORKSPACE_VIEW', 'vic')).toEqual(rows);
    expect(listing('WORKSPACE_VIEW', 'wanda')).toEqual([{ app: 'blue' }]);
  });
});
