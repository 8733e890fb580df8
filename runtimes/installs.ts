import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { PaasmakerError } from '../src/shared/errors.js';

/**
 * Versions Paasmaker installs itself live in PAASMAKER_HOME/runtimes/<runtime>/<version>/,
 * shared by every app. An install is written into a temporary folder beside
 * its final place and renamed into it once complete, so a crash leaves no
 * half install where a runtime would look; a lock file beside it keeps two
 * processes (the daemon and a `paasmaker run` of its own) from doing it twice.
 */

/**
 * What plan() throws when no installed version fits what an instance asks
 * for: the platform may install one (RuntimePlugin.install) and plan again;
 * otherwise it reaches the user as it is, with its hint.
 */
export class RuntimeNotInstalled extends PaasmakerError {
  constructor(
    readonly runtime: string,
    /** The semver range asked for ('*': any). */
    readonly range: string,
    code: 'RUNTIME_MISSING' | 'RUNTIME_VERSION',
    message: string,
    hint: string,
  ) {
    super(code, message, { hint });
  }
}

/** PAASMAKER_HOME/runtimes/<runtime>. */
export function installsRoot(home: string, runtime: string): string {
  return join(home, 'runtimes', runtime);
}

/** The versions installed under home for a runtime (complete installs only: temporary folders start with a dot). */
export function installedVersions(home: string, runtime: string): Array<{ version: string; folder: string }> {
  const root = installsRoot(home, runtime);
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  return entries.filter((entry) => !entry.startsWith('.') && semver.valid(entry)).map((version) => ({ version, folder: join(root, version) }));
}

/** Installs under way in this process, by final folder: a second asker waits for the first. */
const underWay = new Map<string, Promise<boolean>>();

/**
 * Makes `<root>/<version>` exist, filled by `fill` (given an empty temporary
 * folder beside it). Resolves true when this call installed it, false when it
 * was there already (or another process or caller installed it meanwhile).
 */
export function installOnce(home: string, runtime: string, version: string, fill: (temporary: string) => Promise<void>, progress: (line: string) => void): Promise<boolean> {
  const folder = join(installsRoot(home, runtime), version);
  let pending = underWay.get(folder);
  if (pending) {
    progress(`${runtime} ${version} is being installed already: waiting for it`);
    return pending.then(() => false);
  }
  pending = (async () => {
    if (existsSync(folder)) return false;
    mkdirSync(installsRoot(home, runtime), { recursive: true, mode: 0o755 });
    const release = await lock(`${folder}.lock`, () => progress(`another Paasmaker process installs ${runtime} ${version}: waiting for it`));
    try {
      if (existsSync(folder)) return false;
      sweepLeftovers(installsRoot(home, runtime), version);
      const temporary = join(installsRoot(home, runtime), `.${version}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`);
      mkdirSync(temporary, { mode: 0o755 });
      try {
        await fill(temporary);
        renameSync(temporary, folder);
      } finally {
        rmSync(temporary, { recursive: true, force: true });
      }
      return true;
    } finally {
      release();
    }
  })();
  underWay.set(folder, pending);
  return pending.finally(() => underWay.delete(folder));
}

/**
 * Removes an install: renamed out of the way first (a runtime looking for
 * versions never sees half of one), then deleted.
 */
export function removeInstalled(home: string, runtime: string, version: string): void {
  const folder = join(installsRoot(home, runtime), version);
  if (!existsSync(folder)) {
    throw new PaasmakerError('RUNTIME_NOT_INSTALLED', `${runtime} ${version} is not installed by Paasmaker`, { hint: 'paasmaker runtimes lists what is installed, and by what' });
  }
  const doomed = join(installsRoot(home, runtime), `.${version}.removing-${process.pid}-${randomBytes(3).toString('hex')}`);
  renameSync(folder, doomed);
  rmSync(doomed, { recursive: true, force: true });
}

/** Temporary folders of this version left by a process that died while installing (the lock is ours: nobody else is writing). */
function sweepLeftovers(root: string, version: string): void {
  for (const entry of readdirSync(root)) {
    if (!entry.startsWith(`.${version}.tmp-`) && !entry.startsWith(`.${version}.removing-`)) continue;
    // A folder whose process lives is being written (two processes that broke the same stale lock): left alone.
    const pid = Number.parseInt(/-(\d+)-[0-9a-f]+$/.exec(entry)?.[1] ?? '', 10);
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) continue;
    rmSync(join(root, entry), { recursive: true, force: true });
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock file holding the owner's pid: taken with O_EXCL, broken
 * when its owner is dead, waited for (polling) while it lives.
 */
async function lock(file: string, waiting: () => void): Promise<() => void> {
  let told = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      try {
        writeSync(fd, String(process.pid));
      } catch (error) {
        // (A full disk:) an empty lock would read as one being written, forever.
        closeSync(fd);
        rmSync(file, { force: true });
        throw error;
      }
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // removed meanwhile: try again
    }
    const owner = Number.parseInt(text, 10);
    // An empty file is one being written (its owner is about to write its pid), unless it has been empty for long.
    // Our own pid is a previous life's (a restart given the same pid): callers in this process wait in underWay instead.
    const stale = text === '' ? ageMs(file) > 10_000 : !Number.isInteger(owner) || owner === process.pid || !alive(owner);
    if (stale) {
      rmSync(file, { force: true });
      continue;
    }
    if (!told) waiting();
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
