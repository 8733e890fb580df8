import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Access, hashPassword, PERMISSION_NAMES, SignInCodes, SignInLimiter, verifyPassword } from '../../src/auth/index.js';
import { State } from '../../src/state/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function state(): State {
  const dir = mkdtempSync(join(tmpdir(), 'pm-auth-'));
  dirs.push(dir);
  return State.open(join(dir, 'state.db'));
}

describe('passwords', () => {
  it('are kept as salted scrypt hashes that only the password verifies', async () => {
    const first = await hashPassword('correct horse');
    const second = await hashPassword('correct horse');
    expect(first).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(first).not.toBe(second);
    expect(first).not.toContain('correct horse');
    expect(await verifyPassword('correct horse', first)).toBe(true);
    expect(await verifyPassword('correct horse', second)).toBe(true);
    expect(await verifyPassword('correct hors', first)).toBe(false);
    expect(await verifyPassword('correct horse', 'plain text')).toBe(false);
  });
});

describe('what a user may do', () => {
  it('adds up their roles: everywhere, or in one workspace only; a custom role gives what it lists', () => {
    const db = state();
    db.users.add('ana', null);
    db.workspaces.ensure('shop');
    db.roles.add('deployer', ['APPLICATION_DEPLOY', 'WORKSPACE_VIEW']);
    db.allocations.assign('ana', 'viewer', null);
    db.allocations.assign('ana', 'deployer', 'shop');
    const access = Access.of(db, 'ana');
    expect(access.can('WORKSPACE_VIEW')).toBe(true);
    expect(access.can('APPLICATION_DEPLOY')).toBe(false);
    expect(access.can('APPLICATION_DEPLOY', 'shop')).toBe(true);
    expect(access.can('APPLICATION_DEPLOY', 'default')).toBe(false);
    expect(access.canSomewhere('APPLICATION_DEPLOY')).toBe(true);
    expect(access.can('SERVICE_CREDENTIAL_VIEW', 'shop')).toBe(false);
    expect(access.summary()).toEqual({ global: ['WORKSPACE_VIEW', 'APPLICATION_VIEW_MANIFEST', 'SERVICE_VIEW', 'SYSTEM_OVERVIEW'], workspaces: { shop: ['WORKSPACE_VIEW', 'APPLICATION_DEPLOY'] } });
    // Removing the role takes what it gave; an unknown user holds nothing.
    db.roles.remove('deployer');
    expect(Access.of(db, 'ana').can('APPLICATION_DEPLOY', 'shop')).toBe(false);
    expect(Access.of(db, 'nobody').canSomewhere('WORKSPACE_VIEW')).toBe(false);
    expect(PERMISSION_NAMES.every((name) => Access.everything().can(name))).toBe(true);
    db.close();
  });
});

describe('sign-in codes and limits', () => {
  it('a code signs in once, and not after 2 minutes', () => {
    const codes = new SignInCodes();
    const now = Date.now();
    const { code } = codes.issue('ana', now);
    expect(codes.consume(code, now + 1000)).toBe('ana');
    expect(codes.consume(code, now + 2000)).toBeUndefined();
    const late = codes.issue('ana', now).code;
    expect(codes.consume(late, now + 120_001)).toBeUndefined();
  });

  it('5 failures in a minute hold a user and client back until the first of them is a minute old', () => {
    const limiter = new SignInLimiter();
    const now = Date.now();
    for (let i = 0; i < 5; i++) limiter.failed('ana\0127.0.0.1', now + i * 1000);
    expect(limiter.retryAfter('ana\0127.0.0.1', now + 5000)).toBe(55);
    expect(limiter.retryAfter('ana\0::1', now + 5000)).toBe(0);
    expect(limiter.retryAfter('ana\0127.0.0.1', now + 60_001)).toBe(0);
  });
});
