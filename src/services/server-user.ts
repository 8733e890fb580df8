import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The user database servers run as. */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

const USER = 'paasmaker';

function lookup(name: string): ServerUser | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [user, , uid, gid] = line.split(':');
      if (user === name && uid && gid) return { name, uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // no /etc/passwd (macOS keeps users elsewhere; it also never runs us as root by default)
  }
  return undefined;
}

let cached: ServerUser | undefined | null = null;

/**
 * PostgreSQL refuses to run as root, and no database server should. When the
 * platform runs as root, servers run as the system user "paasmaker" (made on
 * first need, with no login and no home), or "nobody" if it cannot be made.
 * Undefined when the platform is not root: servers run as the user who runs it.
 */
export function serverUser(say?: (line: string) => void): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (cached !== null) return cached;
  let user = lookup(USER);
  if (!user) {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', USER], { stdio: 'ignore' });
      user = lookup(USER);
      say?.(`running as root: made the system user "${USER}" to run database servers (PostgreSQL refuses root)`);
    } catch {
      user = lookup('nobody');
      say?.('running as root: database servers run as "nobody" (could not add a "paasmaker" user)');
    }
  }
  cached = user;
  return user;
}

/**
 * Lets the server user reach a folder under a private home: each ancestor
 * that others cannot enter gets search permission (x) only — no one can
 * list it — and the folder itself becomes the server user's.
 */
export function giveToServerUser(dir: string, user: ServerUser, say?: (line: string) => void): void {
  const opened: string[] = [];
  for (let parent = dirname(dir); ; parent = dirname(parent)) {
    const mode = statSync(parent).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(parent, (mode & 0o7777) | 0o001);
      opened.push(parent);
    }
    if (parent === dirname(parent)) break;
  }
  if (opened.length > 0) say?.(`let the "${user.name}" user pass through ${opened.join(', ')} (search permission only) to reach ${dir}`);
  chownTree(dir, user);
}

function chownTree(path: string, user: ServerUser): void {
  const stats = lstatSync(path);
  if (stats.uid !== user.uid || stats.gid !== user.gid) chownSync(path, user.uid, user.gid);
  if (stats.isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), user);
}
