import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';

/** Where distributions put server binaries that are not on PATH. */
function extraDirs(): string[] {
  const dirs = ['/usr/sbin', '/usr/local/sbin', '/opt/homebrew/bin', '/usr/local/opt/postgresql/bin'];
  for (const base of ['/usr/lib/postgresql', '/usr/local/pgsql']) {
    try {
      // Newest major version first.
      const versions = readdirSync(base).filter((name) => /^\d+/.test(name)).sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
      dirs.push(...versions.map((version) => join(base, version, 'bin')));
    } catch {
      // not installed there
    }
  }
  return dirs;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first of `names` found on PATH or in the usual server folders, or undefined. */
export function findBinary(names: string[], env: NodeJS.ProcessEnv = process.env, near?: string): string | undefined {
  const dirs = [...(near ? [near] : []), ...(env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs()];
  for (const name of names) {
    for (const dir of dirs) {
      const file = join(dir, name);
      if (executable(file)) return file;
    }
  }
  return undefined;
}

/** Like findBinary, but a missing one is an error that says what to install. */
export function requireBinary(names: string[], what: string, install: string, env?: NodeJS.ProcessEnv, near?: string): string {
  const found = findBinary(names, env, near);
  if (found) return found;
  throw new PaasmakerError('SERVICE_BINARY_MISSING', `${what} needs ${names.join(' or ')}, which is not installed (looked on PATH and in /usr/lib/postgresql/*/bin, /usr/sbin)`, {
    hint: install,
  });
}

export const INSTALL = {
  postgres: 'install PostgreSQL: apt install postgresql (Debian/Ubuntu), brew install postgresql (macOS)',
  mysql: 'install MariaDB: apt install mariadb-server (Debian/Ubuntu), brew install mariadb (macOS)',
  redis: 'install Redis: apt install redis-server (Debian/Ubuntu), brew install redis (macOS)',
  psql: 'install the PostgreSQL client: apt install postgresql-client (Debian/Ubuntu), brew install libpq (macOS)',
  mariadb: 'install the MariaDB client: apt install mariadb-client (Debian/Ubuntu), brew install mariadb (macOS)',
  redisCli: 'install the Redis tools: apt install redis-tools (Debian/Ubuntu), brew install redis (macOS)',
  sqlite3: 'install the SQLite shell: apt install sqlite3 (Debian/Ubuntu); macOS has it',
};
