import { execFileSync } from 'node:child_process';
import type { X509Certificate } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from './system-store.js';
import { onPath, which } from './programs.js';

/**
 * A certificate database of NSS, the library Chromium (on Linux) and Firefox
 * (everywhere) verify with instead of the system store: Chromium reads
 * ~/.pki/nssdb, each Firefox profile its own cert9.db.
 */
export interface NssDatabase {
  /** The folder holding cert9.db. */
  dir: string;
  /** Who reads it: "Chromium", "Firefox (profile abc.default-release)". */
  reader: string;
  /** False for Chromium's when a Chromium is installed but has not made it yet (it does at its first start): trust makes it the same way. */
  exists: boolean;
}

/** Browsers built on Chromium, whose presence means ~/.pki/nssdb will be read. */
const CHROMIUMS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'google-chrome-beta', 'google-chrome-unstable', 'microsoft-edge', 'brave-browser', 'vivaldi', '/snap/bin/chromium'];

const hasCert9 = (dir: string) => existsSync(join(dir, 'cert9.db'));

/** The user's home, as the browsers find it: $HOME first. */
export function userHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOME || homedir();
}

/** The Firefox profiles under a profiles folder that hold an NSS database. */
function firefoxProfiles(parent: string): NssDatabase[] {
  let names: string[];
  try {
    names = readdirSync(parent).sort();
  } catch {
    return [];
  }
  return names.filter((name) => hasCert9(join(parent, name))).map((name) => ({ dir: join(parent, name), reader: `Firefox (profile ${name})`, exists: true }));
}

/**
 * The NSS databases the browsers of this user read: those that exist (with
 * cert9.db), and Chromium's ~/.pki/nssdb to be made when a Chromium is
 * installed but has never run. The system-wide /etc/pki/nssdb is one when
 * it exists and this user may write it.
 */
export function nssDatabases(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): NssDatabase[] {
  const home = userHome(env);
  const found: NssDatabase[] = [];
  if (platform === 'linux') {
    const chromium = join(home, '.pki', 'nssdb');
    if (hasCert9(chromium)) found.push({ dir: chromium, reader: 'Chromium', exists: true });
    else if (CHROMIUMS.some((name) => onPath(name, env))) found.push({ dir: chromium, reader: 'Chromium', exists: false });
    const snapChromium = join(home, 'snap', 'chromium', 'current', '.pki', 'nssdb');
    if (hasCert9(snapChromium)) found.push({ dir: snapChromium, reader: 'Chromium (snap)', exists: true });
    if (hasCert9('/etc/pki/nssdb') && writable('/etc/pki/nssdb')) found.push({ dir: '/etc/pki/nssdb', reader: 'NSS (system-wide)', exists: true });
    found.push(...firefoxProfiles(join(home, '.mozilla', 'firefox')));
    found.push(...firefoxProfiles(join(home, 'snap', 'firefox', 'common', '.mozilla', 'firefox')));
    found.push(...firefoxProfiles(join(home, '.var', 'app', 'org.mozilla.firefox', '.mozilla', 'firefox')));
  } else if (platform === 'darwin') {
    found.push(...firefoxProfiles(join(home, 'Library', 'Application Support', 'Firefox', 'Profiles')));
  }
  return found;
}

function writable(dir: string): boolean {
  try {
    accessSync(join(dir, 'cert9.db'), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** NSS's certutil (Debian's libnss3-tools, Fedora's nss-tools, Homebrew's nss), or undefined. */
export function certutil(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  const candidates = platform === 'darwin' ? ['certutil', '/opt/homebrew/opt/nss/bin/certutil', '/usr/local/opt/nss/bin/certutil'] : ['certutil'];
  for (const candidate of candidates) {
    const found = which(candidate, env);
    if (found) return found;
  }
  return undefined;
}

const sql = (dir: string) => `sql:${dir}`;

/** The commands that add the root to a database under a nickname, trusted to issue server certificates (C,,); Chromium's made first if it is not there. */
export function nssAdd(tool: string, database: NssDatabase, nickname: string, rootFile: string): Command[] {
  const make: Command[] = database.exists ? [] : [['mkdir', '-p', '-m', '700', database.dir], [tool, '-N', '--empty-password', '-d', sql(database.dir)]];
  return [...make, [tool, '-A', '-d', sql(database.dir), '-t', 'C,,', '-n', nickname, '-i', rootFile]];
}

export function nssRemove(tool: string, dir: string, nickname: string): Command {
  return [tool, '-D', '-d', sql(dir), '-n', nickname];
}

function run(tool: string, args: string[]): string | undefined {
  try {
    return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  } catch {
    return undefined;
  }
}

/** Whether the database holds a certificate under this nickname (any certificate). */
export function nssHolds(tool: string, dir: string, nickname: string): boolean {
  return run(tool, ['-L', '-d', sql(dir), '-n', nickname]) !== undefined;
}

/**
 * Whether the database trusts this root: held under the nickname, the very
 * certificate (byte for byte), marked as a CA for TLS servers (C in the SSL
 * field of its trust flags).
 */
export function nssTrusts(tool: string, dir: string, nickname: string, root: X509Certificate): boolean {
  if (!hasCert9(dir)) return false;
  const listing = run(tool, ['-L', '-d', sql(dir)]);
  const flags = listing
    ?.split('\n')
    .map((line) => /^(.*\S)\s+(\S*,\S*,\S*)\s*$/.exec(line))
    .find((match) => match?.[1] === nickname)?.[2];
  if (!flags || !/[CT]/.test(flags.split(',')[0]!)) return false;
  const pem = run(tool, ['-L', '-d', sql(dir), '-n', nickname, '-a']) ?? '';
  const wanted = root.raw;
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].some((match) => Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64').equals(wanted));
}
