import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import { installLine, type Packages } from '../shared/install-line.js';

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

/** The database servers a service plugin runs, and what each needs installed. */
export interface ServerSoftware {
  /** The service plugin that runs it. */
  plugin: string;
  title: string;
  /** Each entry: the names one binary goes by (any one will do). */
  binaries: string[][];
  packages: Packages;
}

export const SERVER_SOFTWARE: ServerSoftware[] = [
  { plugin: 'postgres', title: 'PostgreSQL', binaries: [['postgres'], ['initdb'], ['psql']], packages: { apt: 'postgresql', dnf: 'postgresql-server', pacman: 'postgresql', apk: 'postgresql', brew: 'postgresql' } },
  { plugin: 'mysql', title: 'MariaDB', binaries: [['mariadbd', 'mysqld'], ['mariadb-install-db', 'mysql_install_db'], ['mariadb', 'mysql']], packages: { apt: 'mariadb-server', dnf: 'mariadb-server', pacman: 'mariadb', apk: 'mariadb', brew: 'mariadb' } },
  { plugin: 'redis', title: 'Redis', binaries: [['redis-server'], ['redis-cli']], packages: { apt: 'redis-server', dnf: 'redis', pacman: 'redis', apk: 'redis', brew: 'redis' } },
];

const install = (what: string, packages: Packages) => `install ${what}: ${installLine(packages)}`;

/** What to install for each need, as the line for this machine's package manager. */
export const INSTALL = {
  get postgres() {
    return install('PostgreSQL', SERVER_SOFTWARE[0]!.packages);
  },
  get mysql() {
    return install('MariaDB', SERVER_SOFTWARE[1]!.packages);
  },
  get redis() {
    return install('Redis', SERVER_SOFTWARE[2]!.packages);
  },
  get psql() {
    return install('the PostgreSQL client', { apt: 'postgresql-client', dnf: 'postgresql', pacman: 'postgresql', apk: 'postgresql-client', brew: 'libpq' });
  },
  get mariadb() {
    return install('the MariaDB client', { apt: 'mariadb-client', dnf: 'mariadb', pacman: 'mariadb-clients', apk: 'mariadb-client', brew: 'mariadb' });
  },
  get redisCli() {
    return install('the Redis tools', { apt: 'redis-tools', dnf: 'redis', pacman: 'redis', apk: 'redis', brew: 'redis' });
  },
  get sqlite3() {
    return install('the SQLite shell', { apt: 'sqlite3', dnf: 'sqlite', pacman: 'sqlite', apk: 'sqlite', brew: 'sqlite' });
  },
};
