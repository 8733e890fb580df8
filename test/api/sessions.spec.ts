import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookieOf, tcpRequest, userToken } from '../helpers/auth.js';
import { apiRequest, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';

// Browser sessions on the TCP listener: password sign-in (rate-limited), the
// cookie's flags, CSRF on every state change, and the one-time link of
// paasmaker console.

let home: string;
let port: number;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const temp = tempHome();
  home = temp.home;
  cleanup = () => stopDaemonAndRemove(home, temp.cleanup);
  expect((await runCli(['daemon', 'start', '--api-port', '0'], { home })).exitCode).toBe(0);
  port = (JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { apiPort: number }).apiPort;
  for (const user of ['sam', 'kim']) {
    const added = await runCli(['user', 'add', user, '--role', 'developer', '--password-stdin'], { home, input: 'correct horse battery\n' });
    expect(added.exitCode, added.stderr).toBe(0);
  }
}, 60_000);

afterAll(async () => cleanup?.());

const signIn = (user: string, password: string) => tcpRequest(port, 'POST', '/api/v1/session', { body: { user, password } });

describe('sessions', () => {
  it('a wrong password or user gets one generic 401; the right one a 12-hour HttpOnly SameSite=Strict cookie', async () => {
    for (const answer of [await signIn('sam', 'wrong horse'), await signIn('nobody', 'correct horse battery')]) {
      expect(answer).toMatchObject({ status: 401, json: { code: 'UNAUTHORIZED', error: 'wrong user name or password' } });
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    const answer = await signIn('sam', 'correct horse battery');
    expect(answer).toMatchObject({ status: 200, json: { user: 'sam' } });
    const [cookie] = [answer.headers['set-cookie']].flat();
    expect(cookie).toMatch(/^paasmaker_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
    const session = await tcpRequest(port, 'GET', '/api/v1/session', { headers: { cookie: sessionCookieOf(answer) } });
    expect(session.json).toMatchObject({ user: 'sam', owner: false, csrf: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/), workspaces: {} });
    expect(session.json.global).toContain('APPLICATION_DEPLOY');
    expect(session.json.global).not.toContain('USER_EDIT');
    // The local administrator has no password: only the one-time link signs them in.
    expect((await signIn(userInfo().username, '')).status).toBe(401);
  });

  it('5 failed sign-ins in a minute: the next is answered 429 with Retry-After, even with the right password', async () => {
    for (let i = 0; i < 5; i++) expect((await signIn('kim', `guess ${i}`)).status).toBe(401);
    const limited = await signIn('kim', 'correct horse battery');
    expect(limited).toMatchObject({ status: 429, json: { code: 'RATE_LIMITED' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another user is not held back.
    expect((await signIn('sam', 'correct horse battery')).status).toBe(200);
  });

  it('a state change signed in by the cookie needs x-csrf-token: missing or wrong 403, right 200; a bearer token needs none', async () => {
    const cookie = sessionCookieOf(await signIn('sam', 'correct horse battery'));
    const { csrf } = (await tcpRequest(port, 'GET', '/api/v1/session', { headers: { cookie } })).json as { csrf: string };
    const create = (headers: Record<string, string>) => tcpRequest(port, 'POST', '/api/v1/tokens', { headers, body: { name: 'from the console' } });
    expect(await create({ cookie })).toMatchObject({ status: 403, json: { code: 'CSRF', error: expect.stringContaining('x-csrf-token header is missing') } });
    expect(await create({ cookie, 'x-csrf-token': `${csrf.slice(1)}x` })).toMatchObject({ status: 403, json: { code: 'CSRF' } });
    expect(await create({ cookie, 'x-csrf-token': csrf })).toMatchObject({ status: 200, json: { user: 'sam', name: 'from the console' } });
    // Reads need none; a token caller needs none for changes either.
    expect((await tcpRequest(port, 'GET', '/api/v1/tokens', { headers: { cookie } })).status).toBe(200);
    const token = await userToken(home, 'sam');
    expect((await tcpRequest(port, 'POST', '/api/v1/tokens', { token, body: {} })).status).toBe(200);
    // A page of another origin is refused whatever it carries.
    expect((await tcpRequest(port, 'POST', '/api/v1/tokens', { headers: { cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' }, body: {} })).status).toBe(403);

    // Signing in again while the cookie is there needs no CSRF value: there is none to send yet.
    expect((await tcpRequest(port, 'POST', '/api/v1/session', { headers: { cookie }, body: { user: 'sam', password: 'correct horse battery' } })).status).toBe(200);

    // Signing out ends the session: the cookie is cleared and no longer works.
    const out = await tcpRequest(port, 'DELETE', '/api/v1/session', { headers: { cookie, 'x-csrf-token': csrf } });
    expect(out).toMatchObject({ status: 200, json: { signedOut: true } });
    expect([out.headers['set-cookie']].flat()[0]).toMatch(/^paasmaker_session=; .*Max-Age=0$/);
    expect((await tcpRequest(port, 'GET', '/api/v1/session', { headers: { cookie } })).status).toBe(401);
  });

  it('a new password ends the user\'s sessions', async () => {
    const cookie = sessionCookieOf(await signIn('sam', 'correct horse battery'));
    const changed = await runCli(['user', 'passwd', 'sam', '--password-stdin'], { home, input: 'another long one\n' });
    expect(changed.exitCode, changed.stderr).toBe(0);
    expect((await tcpRequest(port, 'GET', '/api/v1/session', { headers: { cookie } })).status).toBe(401);
    expect((await signIn('sam', 'another long one')).status).toBe(200);
  });

  it('a user signed in by session changes their own password only by giving the current one', async () => {
    const signedIn = await signIn('sam', 'another long one');
    const cookie = sessionCookieOf(signedIn);
    const csrf = ((await tcpRequest(port, 'GET', '/api/v1/session', { headers: { cookie } })).json as { csrf: string }).csrf;
    const change = (body: unknown) => tcpRequest(port, 'POST', '/api/v1/users/sam/password', { headers: { cookie, 'x-csrf-token': csrf }, body });
    expect(await change({ password: 'taken over for good' })).toMatchObject({ status: 403, json: { code: 'FORBIDDEN' } });
    expect(await change({ password: 'taken over for good', current: 'a wrong guess' })).toMatchObject({ status: 403, json: { code: 'FORBIDDEN' } });
    expect((await signIn('sam', 'another long one')).status).toBe(200);
    expect((await change({ password: 'a third long one', current: 'another long one' })).status).toBe(200);
    expect((await signIn('sam', 'a third long one')).status).toBe(200);
  });

  it('the one-time link signs the local administrator in once; a used link gets a page saying so', async () => {
    const socket = join(home, 'paasmaker.sock');
    const link = (await apiRequest(socket, 'POST', '/api/v1/session/links')).json as { path: string; expiresAt: number };
    expect(link.path).toMatch(/^\/signin\?code=[A-Za-z0-9_-]+$/);
    expect(link.expiresAt - Date.now()).toBeGreaterThan(60_000);
    expect(link.expiresAt - Date.now()).toBeLessThanOrEqual(120_000);
    const first = await tcpRequest(port, 'GET', link.path);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const session = await tcpRequest(port, 'GET', '/api/v1/session', { headers: { cookie: sessionCookieOf(first) } });
    expect(session.json).toMatchObject({ user: userInfo().username, owner: false, global: expect.arrayContaining(['USER_EDIT', 'SYSTEM_ADMINISTRATION']) });
    const again = await tcpRequest(port, 'GET', link.path);
    expect(again.status).toBe(400);
    expect(again.headers['content-type']).toMatch(/^text\/html/);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(again.text).toContain('expired or was already used');
    expect(again.text).not.toContain(link.path.split('=')[1]);
    // Links are the owner's: over TCP even an administrator's token is refused one.
    const admin = await userToken(home, userInfo().username);
    expect((await tcpRequest(port, 'POST', '/api/v1/session/links', { token: admin })).status).toBe(403);
    // The socket's owner: every permission.
    expect((await apiRequest(socket, 'GET', '/api/v1/session')).json).toMatchObject({ owner: true, user: userInfo().username, global: expect.arrayContaining(['SYSTEM_ADMINISTRATION']) });
  });
});
