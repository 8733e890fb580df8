import { createHash, randomBytes } from 'node:crypto';

export const SESSION_COOKIE = 'paasmaker_session';
/** A session lasts 12 hours from sign-in (fixed, not sliding: a stolen cookie is not kept alive by use). */
export const SESSION_SECONDS = 12 * 60 * 60;
/** A one-time sign-in code lives 2 minutes. */
const CODE_SECONDS = 120;

/** The Set-Cookie value of a new session: not readable by scripts, never sent by another site's page. */
export function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_SECONDS}`;
}

/** The Set-Cookie value that ends it in the browser. */
export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

export interface Session {
  user: string;
  /** The value state-changing requests carry in x-csrf-token. */
  csrf: string;
  expiresAt: number;
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Browser sessions, in the daemon's memory only: no session secret is ever
 * on disk, and a restart of the daemon signs everyone out (`paasmaker
 * console` signs the local administrator in again). Kept by the sha256 of
 * their id.
 */
export class Sessions {
  private readonly sessions = new Map<string, Session>();

  create(user: string, now = Date.now()): { id: string; session: Session } {
    this.sweep(now);
    const id = randomBytes(32).toString('base64url');
    const session = { user, csrf: randomBytes(24).toString('base64url'), expiresAt: now + SESSION_SECONDS * 1000 };
    this.sessions.set(digest(id), session);
    return { id, session };
  }

  get(id: string, now = Date.now()): Session | undefined {
    const key = digest(id);
    const session = this.sessions.get(key);
    if (session && session.expiresAt <= now) this.sessions.delete(key);
    return session && session.expiresAt > now ? session : undefined;
  }

  remove(id: string): void {
    this.sessions.delete(digest(id));
  }

  /** Signs a user out everywhere (removed, or a new password). */
  removeUser(user: string): void {
    for (const [key, session] of this.sessions) if (session.user === user) this.sessions.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(key);
  }
}

/** One-time sign-in codes (paasmaker console's link): each works once, for 2 minutes. */
export class SignInCodes {
  private readonly codes = new Map<string, { user: string; expiresAt: number }>();

  issue(user: string, now = Date.now()): { code: string; expiresAt: number } {
    for (const [key, entry] of this.codes) if (entry.expiresAt <= now) this.codes.delete(key);
    const code = randomBytes(24).toString('base64url');
    const expiresAt = now + CODE_SECONDS * 1000;
    this.codes.set(digest(code), { user, expiresAt });
    return { code, expiresAt };
  }

  /** The user the code signs in, once; undefined when it is unknown, used or expired. */
  consume(code: string, now = Date.now()): string | undefined {
    const key = digest(code);
    const entry = this.codes.get(key);
    this.codes.delete(key);
    return entry && entry.expiresAt > now ? entry.user : undefined;
  }
}

/** Failed sign-ins per user and client: 5 in a minute, then refused until the minute has passed. */
export class SignInLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit = 5,
    private readonly windowMs = 60_000,
  ) {}

  /** Seconds to wait before trying again, or 0. */
  retryAfter(key: string, now = Date.now()): number {
    const recent = (this.failures.get(key) ?? []).filter((at) => at > now - this.windowMs);
    if (recent.length === 0) this.failures.delete(key);
    else this.failures.set(key, recent);
    return recent.length >= this.limit ? Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000)) : 0;
  }

  failed(key: string, now = Date.now()): void {
    // Guesses at many made-up names must not grow the table without end: past 10,000 keys, the stale ones go.
    if (this.failures.size > 10_000) for (const [other, times] of this.failures) if (times.every((at) => at <= now - this.windowMs)) this.failures.delete(other);
    this.failures.set(key, [...(this.failures.get(key) ?? []), now]);
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }
}
