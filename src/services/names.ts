import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServiceRequest } from './types.js';

/** Letters, digits and underscores, starting with a letter: safe in SQL and shells even before quoting. */
const SAFE = /^[a-z][a-z0-9_]*$/;

/**
 * The name of what a service gets on a server (database, role): app, service
 * and branch, lower-case with underscores, at most 63 characters (PostgreSQL's
 * limit; MariaDB's user names stop at 80). A long or unusual name keeps a
 * readable prefix and gains a short hash, so two services never collide.
 */
export function resourceName(request: Pick<ServiceRequest, 'app' | 'service' | 'branch'>, max = 63): string {
  const raw = [request.app, request.service, request.branch].filter(Boolean).join('__');
  let name = raw.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
  if (!/^[a-z]/.test(name)) name = `p_${name}`;
  if (name.length > max || name !== raw.replace(/-/g, '_')) {
    const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
    name = `${name.slice(0, max - 9)}_${hash}`;
  }
  assertSafe(name);
  return name;
}

/** Refuses anything but a plain identifier: the last guard before SQL or a command line. */
export function assertSafe(name: string): string {
  if (!SAFE.test(name) || name.length > 80) throw new Error(`unsafe identifier refused: ${JSON.stringify(name)}`);
  return name;
}

/** A PostgreSQL identifier, quoted. */
export const pgIdent = (name: string): string => `"${assertSafe(name).replace(/"/g, '""')}"`;
/** A MariaDB/MySQL identifier, quoted. */
export const myIdent = (name: string): string => `\`${assertSafe(name).replace(/`/g, '``')}\``;
/** A SQL string literal (standard quoting; both servers run with backslashes as plain characters here). */
export const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** 32 random bytes, as hex: safe in URLs, SQL literals and config files without escaping. */
export function newPassword(): string {
  return randomBytes(32).toString('hex');
}

/**
 * A service's password, made once and kept in a file only the owner can
 * read: $PAASMAKER_HOME/secrets/<plugin>/<resource>.
 */
export function servicePassword(home: string, plugin: string, resource: string): string {
  const file = join(home, 'secrets', assertSafe(plugin.replace(/-/g, '_')), assertSafe(resource));
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const password = newPassword();
  writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return password;
}

export function forgetPassword(home: string, plugin: string, resource: string): void {
  rmSync(join(home, 'secrets', assertSafe(plugin.replace(/-/g, '_')), assertSafe(resource)), { force: true });
}
