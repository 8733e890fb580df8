import { EventEmitter } from 'node:events';
import { readFileSync, realpathSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Errors that mean "no room left": a full disk or a used-up quota, from the file system or from SQLite. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

/**
 * isDiskFull, or an I/O error of SQLite's (growing its shared-memory file
 * fails that way) on a file system that has no room left.
 */
export function failedForSpace(error: unknown, dir: string): boolean {
  if (isDiskFull(error)) return true;
  const code = String((error as { code?: unknown } | null | undefined)?.code ?? '');
  if (!code.startsWith('SQLITE_IOERR')) return false;
  const free = filesystemOf(dir).free;
  return free !== undefined && free < 1024 * 1024;
}

/** Why the platform runs degraded, and since when (epoch ms). */
export interface Degraded {
  reason: string;
  since: number;
}

export interface Filesystem {
  /** Where it is mounted: what `df` and the user know it by. */
  mountPoint: string;
  type: string;
  /** Bytes an unprivileged user may still write, when known. */
  free?: number;
}

/** The file system holding a path (Linux: from /proc/self/mountinfo; elsewhere the path itself). */
export function filesystemOf(path: string): Filesystem {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // not there (yet): its own name is the best we have
  }
  let found: Filesystem = { mountPoint: real, type: 'unknown' };
  try {
    let longest = -1;
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const fields = line.split(' ');
      const separator = fields.indexOf('-');
      if (fields.length < 5 || separator === -1) continue;
      const mountPoint = fields[4]!.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
      const inside = real === mountPoint || real.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`);
      if (inside && mountPoint.length > longest) {
        longest = mountPoint.length;
        found = { mountPoint, type: fields[separator + 1] ?? 'unknown' };
      }
    }
  } catch {
    // no /proc: keep the path
  }
  try {
    const stats = statfsSync(real);
    found.free = stats.bavail * stats.bsize;
  } catch {
    // unknown
  }
  return found;
}

/** What the probe writes: enough that a disk with room for it has room for the platform's next writes. */
const PROBE_BYTES = 256 * 1024;
/** Room the file system must report besides, so that a few freed pages (a log rotated, SQLite giving back its WAL) do not end degraded mode. */
const ROOM_BYTES = 1024 * 1024;

/**
 * Whether the disk holding PAASMAKER_HOME has room. A write that fails for
 * want of space puts the platform in degraded mode (routing and apps go on;
 * state and logs wait); a probe then tries a small write every second and
 * ends degraded mode by itself once it succeeds. Everything that writes
 * reports its failures here and asks here whether to try again.
 */
export class DiskSpace extends EventEmitter<{ change: [degraded: Degraded | undefined] }> {
  degraded: Degraded | undefined;
  private probeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly root: string,
    private readonly probeMs = 1000,
  ) {
    super();
  }

  /** A write failed: true when for want of space (the caller drops the write; it is told of the change once). */
  report(error: unknown, what: string): boolean {
    if (!failedForSpace(error, this.root)) return false;
    if (!this.degraded) {
      const code = (error as { code: string }).code;
      const filesystem = filesystemOf(this.root);
      const where = filesystem.mountPoint === this.root ? this.root : `${this.root} (${filesystem.mountPoint})`;
      this.degraded = { reason: `the disk holding ${where} is full: ${what} could not be written (${code})`, since: Date.now() };
      this.probeTimer = setInterval(() => this.probe(), this.probeMs);
      this.probeTimer.unref();
      this.emit('change', this.degraded);
    }
    return true;
  }

  /** Tries a small write; when it fits, degraded mode ends. True when there is room. */
  probe(): boolean {
    if (!this.degraded) return true;
    if (!this.hasRoom()) return false;
    this.clear();
    return true;
  }

  /** Whether a small file can be written in the root now (another failure than a full disk is not for this to judge). */
  hasRoom(): boolean {
    const free = filesystemOf(this.root).free;
    if (free !== undefined && free < ROOM_BYTES) return false;
    const file = join(this.root, '.space-probe');
    try {
      writeFileSync(file, Buffer.alloc(PROBE_BYTES), { mode: 0o600 });
      return true;
    } catch (error) {
      return !isDiskFull(error);
    } finally {
      rmSync(file, { force: true });
    }
  }

  private clear(): void {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.degraded = undefined;
    this.emit('change', undefined);
  }

  close(): void {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }
}
