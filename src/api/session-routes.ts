import type { z } from 'zod';
import { clearedSessionCookie, decoyHash, localAdminName, PERMISSION_NAMES, sessionCookie, verifyPassword, type SignInCodes, type Sessions } from '../auth/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { SessionViewSchema, SignedInSchema, SignedOutSchema, SignInLinkSchema } from '../shared/auth-views.js';
import { SignInRequestSchema } from './auth-requests.js';
import type { ApiContext, Route } from './route.js';

/** Whether the password is the user's, in the same time whether or not the user exists and has one. */
async function passwordMatches(context: ApiContext, name: string, password: string): Promise<boolean> {
  const user = context.platform.state.users.get(name);
  if (!user?.password || user.disabledAt !== null) {
    await verifyPassword(password, await decoyHash());
    return false;
  }
  return verifyPassword(password, user.password);
}

/** Browser sign-in: sessions by password or by the one-time link of paasmaker console. */
export const SESSION_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/api/v1/session',
    summary: 'Sign in with a password: answers the user and sets the session cookie (12 hours); 5 failures per user and client in a minute are answered 429 with Retry-After',
    permission: 'anyone',
    request: SignInRequestSchema,
    response: SignedInSchema,
    handle: async (context, _params, body) => {
      const { user, password } = body as z.infer<typeof SignInRequestSchema>;
      const { limiter, sessions } = context.signIn;
      const key = `${user}\0${context.client}`;
      const wait = limiter.retryAfter(key);
      if (wait > 0) {
        context.headers['retry-after'] = String(wait);
        throw new PaasmakerError('RATE_LIMITED', `too many failed sign-ins as "${user}": try again in ${wait} s`, { hint: 'paasmaker user passwd NAME sets a new password (on this machine)' });
      }
      if (!(await passwordMatches(context, user, password))) {
        limiter.failed(key);
        throw new PaasmakerError('UNAUTHORIZED', 'wrong user name or password', { hint: 'on this machine, paasmaker console signs you in without one' });
      }
      limiter.succeeded(key);
      context.headers['set-cookie'] = sessionCookie(sessions.create(user).id);
      return { user };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/session',
    summary: "The caller: user, permissions (everywhere and per workspace) and the session's CSRF value",
    permission: 'signed-in',
    response: SessionViewSchema,
    handle: (context) => {
      if (context.caller.kind === 'owner') return { user: localAdminName(), owner: true, csrf: '', global: PERMISSION_NAMES, workspaces: {} };
      return { user: context.caller.user, owner: false, csrf: context.session?.session.csrf ?? '', ...context.access.summary() };
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/session',
    summary: 'Sign out: ends the session and clears its cookie',
    permission: 'signed-in',
    response: SignedOutSchema,
    handle: (context) => {
      if (context.session) context.signIn.sessions.remove(context.session.id);
      context.headers['set-cookie'] = clearedSessionCookie();
      return { signedOut: context.session !== undefined };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/session/links',
    summary: 'A one-time sign-in link for the local administrator (paasmaker console): used once, within 2 minutes; asked over the Unix socket only',
    permission: 'SYSTEM_ADMINISTRATION',
    response: SignInLinkSchema,
    handle: (context) => {
      if (context.caller.kind !== 'owner') throw new PaasmakerError('FORBIDDEN', 'sign-in links are given over the Unix socket only, to the owner of the platform', { hint: 'run paasmaker console on the machine the daemon runs on' });
      const { code, expiresAt } = context.signIn.codes.issue(localAdminName());
      return { path: `/signin?code=${code}`, expiresAt };
    },
  },
];

/** GET /signin?code=…: the one-time link's landing: a session and a redirect to the console, or a page saying the link is spent. */
export function signInWithCode(code: string | null, desk: { sessions: Sessions; codes: SignInCodes }, userExists: (name: string) => boolean): { status: number; headers: Record<string, string>; body: string } {
  const user = code ? desk.codes.consume(code) : undefined;
  if (user && userExists(user)) {
    return { status: 303, headers: { location: '/', 'set-cookie': sessionCookie(desk.sessions.create(user).id), 'cache-control': 'no-store' }, body: '' };
  }
  const body =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Paasmaker: sign-in link</title></head>' +
    '<body><h1>This sign-in link has expired or was already used</h1><p>Each link works once, within 2 minutes. Run <code>paasmaker console</code> again for a new one.</p></body></html>';
  return { status: 400, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'" }, body };
}
