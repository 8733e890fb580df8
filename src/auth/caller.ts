import type { State } from '../state/index.js';
import { Access, type Caller } from './access.js';
import { SESSION_COOKIE, type Session, type Sessions } from './sessions.js';
import { tokenHash } from './tokens.js';

export type ResolvedCaller = { caller: Caller; access: Access; session?: { id: string; session: Session } } | { refused: string };

/** One cookie's value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

function activeUser(state: State, name: string): boolean {
  const user = state.users.get(name);
  return user !== undefined && user.disabledAt === null;
}

/**
 * Who sent a request: over the Unix socket (only its owner can open it) the
 * platform's administrator; over TCP a user, by API token (Authorization:
 * Bearer pm_…) or by session cookie. A token that is given but unknown is
 * refused even when a cookie comes with it.
 */
export function resolveCaller(request: { transport: 'socket' | 'tcp'; authorization?: string; cookie?: string }, state: State, sessions: Sessions): ResolvedCaller {
  if (request.transport === 'socket') return { caller: { kind: 'owner' }, access: Access.everything() };
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? '');
  if (request.authorization !== undefined && request.authorization !== '') {
    if (!bearer) return { refused: 'the Authorization header must be "Bearer pm_…"' };
    const token = state.tokens.use(tokenHash(bearer[1]!));
    if (!token || !activeUser(state, token.user)) return { refused: 'this API token is unknown or revoked' };
    return { caller: { kind: 'user', user: token.user, via: 'token' }, access: Access.of(state, token.user) };
  }
  const id = cookieValue(request.cookie, SESSION_COOKIE);
  if (id) {
    const session = sessions.get(id);
    if (!session || !activeUser(state, session.user)) return { refused: 'the session has ended: sign in again' };
    return { caller: { kind: 'user', user: session.user, via: 'session' }, access: Access.of(state, session.user), session: { id, session } };
  }
  return { refused: 'sign in: an API token (Authorization: Bearer pm_…) or a session cookie is needed' };
}
