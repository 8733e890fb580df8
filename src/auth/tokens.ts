import { createHash, randomBytes } from 'node:crypto';

/**
 * API tokens: "pm_" and 32 random bytes (base64url). Only their sha256 is
 * stored: a salted slow hash protects guessable passwords, and 256 random
 * bits are not guessable.
 */
export function newToken(): { token: string; id: string; hash: string } {
  const token = `pm_${randomBytes(32).toString('base64url')}`;
  return { token, id: randomBytes(6).toString('hex'), hash: tokenHash(token) };
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
