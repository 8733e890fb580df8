import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import { installLine } from '../shared/install-line.js';
import { shellQuote } from '../shared/shell.js';
import { certutil, nssAdd, nssDatabases, nssHolds, nssRemove, nssTrusts, type NssDatabase } from './nss-databases.js';
import { which } from './programs.js';
import { systemStore, systemStoreById, type Command, type SystemStore, type SystemStoreId } from './system-store.js';

/** What `paasmaker trust` added to the system store, to take out again. */
export interface SystemEntry {
  store: 'system';
  system: SystemStoreId;
  /** The file written (Linux) or the keychain (macOS). */
  location: string;
  unique: string;
  /** SHA-256 of the root, as Node writes it. */
  fingerprint: string;
  sha1: string;
  /** The root as added (PEM): macOS needs it to take the trust setting off, even once root.pem is another root. */
  certificate: string;
  added: string;
}

/** What `paasmaker trust` added to an NSS database. */
export interface NssEntry {
  store: 'nss';
  reader: string;
  database: string;
  nickname: string;
  fingerprint: string;
  added: string;
}

export type TrustEntry = SystemEntry | NssEntry;

/** One trust store, and whether it trusts the current root: a row of `paasmaker trust --status --json`. */
export interface TrustRow {
  store: 'system' | 'nss';
  /** Who reads it: "Debian/Ubuntu", "Chromium", "Firefox (profile x)". */
  reader: string;
  location: string;
  trusted: boolean;
  /** Whether `paasmaker trust` put the root there (and `--uninstall` would take it out). */
  added: boolean;
}

/** The stores of this machine and user, as trust and doctor find them. */
export interface TrustStores {
  system: SystemStore | undefined;
  certutil: string | undefined;
  databases: NssDatabase[];
}

export function trustStores(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): TrustStores {
  return { system: systemStore(platform, env), certutil: certutil(env, platform), databases: nssDatabases(env, platform) };
}

/** What to install for certutil, on this system. */
export const CERTUTIL_INSTALL = () => installLine({ apt: 'libnss3-tools', dnf: 'nss-tools', pacman: 'nss', apk: 'nss-tools', brew: 'nss' });

/** The name of this root in the stores: a file name and an NSS nickname that tell one root from another (the start of its SHA-256). */
const UNIQUE_NAME = /^paasmaker-[0-9a-f]{16}$/;
const SYSTEM_STORE_IDS: readonly string[] = ['fedora', 'debian', 'arch', 'macos'] satisfies SystemStoreId[];

export function uniqueName(root: X509Certificate): string {
  return `paasmaker-${root.fingerprint256.replace(/:/g, '').slice(0, 16).toLowerCase()}`;
}

export function trustRecordFile(tlsDir: string): string {
  return join(tlsDir, 'trust.json');
}

/** What `paasmaker trust` added, from PAASMAKER_HOME/tls/trust.json (nothing when there is none). */
export function readTrustRecord(tlsDir: string): TrustEntry[] {
  const file = trustRecordFile(tlsDir);
  if (!existsSync(file)) return [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { entries?: TrustEntry[] };
    if (!Array.isArray(parsed.entries)) throw new Error('no "entries" list');
    // What the record names reaches commands run as root (rm, certutil -D): only names and stores paasmaker itself writes.
    for (const entry of parsed.entries) {
      const name = entry.store === 'system' ? entry.unique : entry.store === 'nss' ? entry.nickname : undefined;
      if (typeof name !== 'string' || !UNIQUE_NAME.test(name)) throw new Error(`an entry names ${JSON.stringify(name)}, not a root paasmaker added (paasmaker-<16 hex digits>)`);
      if (entry.store === 'system' && !SYSTEM_STORE_IDS.includes(entry.system)) throw new Error(`an entry names the system store ${JSON.stringify(entry.system)}, which paasmaker does not know`);
      if (entry.store === 'nss' && (typeof entry.database !== 'string' || !isAbsolute(entry.database))) throw new Error(`an entry names the NSS database ${JSON.stringify(entry.database)}, not an absolute folder`);
    }
    return parsed.entries;
  } catch (error) {
    throw new PaasmakerError('CONFIG_INVALID', `${file}, the record of where the root was trusted, cannot be read: ${(error as Error).message}`, {
      hint: `look at it and repair or remove it; paasmaker trust --status says where the root is trusted now`,
    });
  }
}

/** Writes the record, readable by the owner only; no entries, no file. */
export function writeTrustRecord(tlsDir: string, entries: TrustEntry[]): void {
  const file = trustRecordFile(tlsDir);
  if (entries.length === 0) {
    rmSync(file, { force: true });
    return;
  }
  const temporary = `${file}.${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify({ entries }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

const recorded = (entries: TrustEntry[], entry: TrustEntry) => entries.some((known) => sameEntry(known, entry));

function sameEntry(a: TrustEntry, b: TrustEntry): boolean {
  if (a.store === 'system' && b.store === 'system') return a.system === b.system && a.location === b.location;
  if (a.store === 'nss' && b.store === 'nss') return a.database === b.database && a.nickname === b.nickname;
  return false;
}

/** Each store of this machine and user, and whether it trusts the root. */
export function trustStatus(root: X509Certificate, tlsDir: string, stores: TrustStores = trustStores()): TrustRow[] {
  const unique = uniqueName(root);
  const entries = readTrustRecord(tlsDir);
  const rows: TrustRow[] = [];
  if (stores.system) {
    const location = stores.system.location(unique);
    rows.push({ store: 'system', reader: stores.system.system, location, trusted: stores.system.trusts(root), added: entries.some((entry) => entry.store === 'system' && entry.location === location) });
  }
  for (const database of stores.databases) {
    if (!database.exists) continue;
    const trusted = stores.certutil !== undefined && nssTrusts(stores.certutil, database.dir, unique, root);
    rows.push({ store: 'nss', reader: database.reader, location: database.dir, trusted, added: entries.some((entry) => entry.store === 'nss' && entry.database === database.dir && entry.nickname === unique) });
  }
  return rows;
}

/** One change to a store: what it is, the commands that make it, and what is recorded once they ran. */
export interface TrustAction {
  /** "add the root to the system store (Debian/Ubuntu)". */
  what: string;
  /** What is so when it is done: "the root is in the system store (Debian/Ubuntu)". */
  done: string;
  commands: Command[];
  /** Done already: nothing runs (the record keeps it, or takes it when it is ours). */
  already: boolean;
  /** Cannot be done by this user: why, and the commands to run by hand. */
  blocked?: string;
  entry: TrustEntry;
}

export interface TrustPlan {
  actions: TrustAction[];
  /** What is left alone and why (no certutil, a system store Paasmaker cannot change). */
  notes: string[];
  /** Whether some commands go through sudo. */
  sudo: boolean;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** A command that needs root: as is for root, through sudo for another user when sudo is there; undefined when neither. */
function privileged(command: Command, env: NodeJS.ProcessEnv): Command | undefined {
  if (isRoot()) return command;
  return which('sudo', env) ? ['sudo', '--', ...command] : undefined;
}

function elevate(commands: Command[], env: NodeJS.ProcessEnv): { commands: Command[]; blocked?: string; sudo: boolean } {
  const lifted = commands.map((command) => privileged(command, env));
  if (lifted.every((command): command is Command => command !== undefined)) return { commands: lifted, sudo: !isRoot() };
  return { commands, blocked: 'it needs root, and sudo is not installed: run these as root', sudo: false };
}

/** The root as trust needs it: the certificate and its file. */
export interface RootToTrust {
  root: X509Certificate;
  rootFile: string;
}

/** What `paasmaker trust` would do: add the root to the system store and the browsers' NSS databases, skipping what is done. */
export function planTrust(ca: RootToTrust, tlsDir: string, options: { system: boolean; nss: boolean }, env: NodeJS.ProcessEnv = process.env, stores: TrustStores = trustStores(env)): TrustPlan {
  const { root, rootFile } = ca;
  const unique = uniqueName(root);
  const added = new Date().toISOString();
  const actions: TrustAction[] = [];
  const notes: string[] = [];
  let sudo = false;
  if (options.system) {
    const store = stores.system;
    if (!store) {
      notes.push(`the system store is left alone: Paasmaker does not know how to change it on this system (${process.platform}); add ${rootFile} to it by hand`);
    } else {
      const entry: SystemEntry = { store: 'system', system: store.id, location: store.location(unique), unique, fingerprint: root.fingerprint256, sha1: root.fingerprint.replace(/:/g, ''), certificate: root.toString(), added };
      const already = store.trusts(root) && (store.id === 'macos' || sameFile(entry.location, root));
      const lifted = elevate(store.add(rootFile, unique), env);
      sudo ||= lifted.sudo && !already;
      actions.push({ what: `add the root to the system store (${store.system}), which curl, OpenSSL and most programs read`, done: `the root is in the system store (${store.system})`, commands: already ? [] : lifted.commands, already, blocked: already ? undefined : lifted.blocked, entry });
    }
  }
  if (options.nss) {
    const tool = stores.certutil;
    const databases = stores.databases;
    if (databases.length === 0) notes.push('no browser NSS database was found (Chromium and Firefox make theirs at their first start; run paasmaker trust again after)');
    else if (!tool) notes.push(`the browsers' NSS databases (${databases.map((database) => database.dir).join(', ')}) are left alone: certutil is not installed (${CERTUTIL_INSTALL()}); then run paasmaker trust again`);
    else {
      for (const database of databases) {
        const entry: NssEntry = { store: 'nss', reader: database.reader, database: database.dir, nickname: unique, fingerprint: root.fingerprint256, added };
        const already = database.exists && nssTrusts(tool, database.dir, unique, root);
        actions.push({ what: `add the root to the NSS database of ${database.reader}, ${database.dir}${database.exists ? '' : ' (made first, as Chromium makes it)'}`, done: `the root is in the NSS database of ${database.reader}, ${database.dir}`, commands: already ? [] : nssAdd(tool, database, unique, rootFile), already, entry });
      }
    }
  }
  return { actions, notes, sudo };
}

/** Whether the file added to a Linux store is this root. */
function sameFile(file: string, root: X509Certificate): boolean {
  try {
    return new X509Certificate(readFileSync(file)).raw.equals(root.raw);
  } catch {
    return false;
  }
}

/** What `paasmaker trust --uninstall` would do: take out what the record says was added, and only that. */
export function planUntrust(tlsDir: string, env: NodeJS.ProcessEnv = process.env, stores: TrustStores = trustStores(env)): TrustPlan {
  const actions: TrustAction[] = [];
  const notes: string[] = [];
  let sudo = false;
  for (const entry of readTrustRecord(tlsDir)) {
    if (entry.store === 'system') {
      const store = systemStoreById(entry.system);
      const certificate = new X509Certificate(entry.certificate);
      // The file's place comes from the store and the checked name, never from the record's own text.
      const location = store.location(entry.unique);
      const present = entry.system === 'macos' ? store.trusts(certificate) : existsSync(location) || store.trusts(certificate);
      const lifted = elevate(store.remove(entry.unique, certificateCopy(tlsDir, entry), entry.sha1), env);
      sudo ||= lifted.sudo && present;
      actions.push({ what: `take the root out of the system store (${store.system}): ${location}`, done: `the root is not in the system store (${store.system})`, commands: lifted.commands, already: !present, blocked: present ? lifted.blocked : undefined, entry });
    } else {
      const tool = stores.certutil;
      const present = tool !== undefined && existsSync(join(entry.database, 'cert9.db')) && nssHolds(tool, entry.database, entry.nickname);
      const what = `take ${entry.nickname} out of the NSS database of ${entry.reader}, ${entry.database}`;
      const done = `${entry.nickname} is not in the NSS database of ${entry.reader}, ${entry.database}`;
      if (!tool && existsSync(join(entry.database, 'cert9.db'))) {
        actions.push({ what, done, commands: [], already: false, blocked: `certutil is not installed (${CERTUTIL_INSTALL()})`, entry });
        continue;
      }
      actions.push({ what, done, commands: present ? [nssRemove(tool!, entry.database, entry.nickname)] : [], already: !present, entry });
    }
  }
  return { actions, notes, sudo };
}

/** Where the recorded root is written for the commands that take it out (macOS), beside root.pem. */
function certificateCopy(tlsDir: string, entry: SystemEntry): string {
  return join(tlsDir, `${entry.unique}.pem`);
}

/** A command as a shell would show it. */
export function commandText(command: Command): string {
  return command.map(shellQuote).join(' ');
}

/** Runs an action's commands in turn; the first that fails throws, with what it said. */
export function runAction(action: TrustAction, tlsDir: string): void {
  const copy = action.entry.store === 'system' ? certificateCopy(tlsDir, action.entry) : undefined;
  const needsCopy = copy !== undefined && action.commands.some((command) => command.includes(copy));
  if (needsCopy) writeFileSync(copy, (action.entry as SystemEntry).certificate, { mode: 0o644 });
  try {
    for (const command of action.commands) {
      try {
        // stdin is the terminal's, for sudo's password or an NSS database's.
        execFileSync(command[0]!, command.slice(1), { stdio: ['inherit', 'pipe', 'pipe'], timeout: 120_000 });
      } catch (error) {
        const failure = error as { stderr?: Buffer; stdout?: Buffer; message: string };
        const said = `${failure.stderr?.toString() ?? ''}${failure.stdout?.toString() ?? ''}`.trim() || failure.message;
        throw new Error(`${commandText(command)} failed: ${said}`);
      }
    }
  } finally {
    if (needsCopy) rmSync(copy, { force: true });
  }
}

/** Adds an entry to the record (once). */
export function recordAdded(tlsDir: string, entry: TrustEntry): void {
  const entries = readTrustRecord(tlsDir);
  if (!recorded(entries, entry)) writeTrustRecord(tlsDir, [...entries, entry]);
}

/** Takes an entry out of the record. */
export function recordRemoved(tlsDir: string, entry: TrustEntry): void {
  writeTrustRecord(
    tlsDir,
    readTrustRecord(tlsDir).filter((known) => !sameEntry(known, entry)),
  );
}
