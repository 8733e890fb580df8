import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, statSync, write } from 'node:fs';
import { dirname } from 'node:path';
import { isDiskFull, type DiskSpace } from '../shared/disk-space.js';

/** Past this size a log moves to `<file>.1` (replacing the one before) and starts again. */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
/** After a failed write, lines are counted as lost for this long before writing is tried again. */
const RETRY_MS = 1000;

const ROTATE = Symbol('rotate');

export interface LogFileOptions {
  maxBytes?: number;
  /** Told when a write fails for want of space; once it has room again, writing resumes at the next line. */
  space?: DiskSpace;
}

/**
 * An append-only log of one process: `<ISO time> <out|err|sys> <line>` per
 * line, rotated by size so a chatty app never fills the disk: at most the
 * current file and one older one. Lines are batched into one write at a
 * time. A write that fails (a full disk) never throws: the lines are
 * counted, writing is tried again with a later line, and the log then says
 * how many were lost — after finishing a line the disk had cut.
 */
export class LogFile {
  private fd: number | undefined;
  /** Bytes in the current file, counted as lines are queued (undefined until the first line). */
  private size: number | undefined;
  private readonly queue: Array<string | typeof ROTATE> = [];
  private draining: Promise<void> | undefined;
  /** Lines lost since the log last said so, and why. */
  private lost = 0;
  private lostWhy = '';
  private failedAt = 0;
  /** The file ends inside a line (a write cut short, or an earlier run's): the next write starts a new one. */
  private cut = false;
  private readonly maxBytes: number;
  private readonly space?: DiskSpace;
  private lastTime = Number.NaN;
  private lastIso = '';

  constructor(
    private readonly file: string,
    options: LogFileOptions | number = {},
  ) {
    const resolved = typeof options === 'number' ? { maxBytes: options } : options;
    this.maxBytes = resolved.maxBytes ?? DEFAULT_MAX_BYTES;
    this.space = resolved.space;
  }

  write(stream: 'out' | 'err' | 'sys', line: string, time: number): void {
    if (this.failedAt !== 0) {
      const roomAgain = this.lostWhy === 'full' && this.space !== undefined && !this.space.degraded;
      if (!roomAgain && Date.now() - this.failedAt < RETRY_MS) {
        this.lost++;
        return;
      }
      this.failedAt = 0;
    }
    const text = `${this.isoTime(time)} ${stream} ${line}\n`;
    this.size ??= sizeOf(this.file);
    this.queue.push(text);
    this.size += Buffer.byteLength(text);
    if (this.size >= this.maxBytes) {
      this.queue.push(ROTATE);
      this.size = 0;
    }
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** The time of the last line, as its lines say it: the lines of one read of a pipe share their millisecond. */
  private isoTime(time: number): string {
    if (time !== this.lastTime) {
      this.lastTime = time;
      this.lastIso = new Date(time).toISOString();
    }
    return this.lastIso;
  }

  /**
   * Writes what is queued, a batch at a time, in order; a rotation waits for
   * the lines before it. It starts once the code that queued the first line
   * has run on, so the lines of one read of a pipe go in one write.
   */
  private async drain(): Promise<void> {
    await undefined;
    while (this.queue.length > 0) {
      if (this.queue[0] === ROTATE) {
        this.queue.shift();
        this.rotate();
        continue;
      }
      const end = this.queue.indexOf(ROTATE);
      const lines = this.queue.splice(0, end === -1 ? this.queue.length : end) as string[];
      await this.writeLines(lines);
    }
  }

  private async writeLines(lines: string[]): Promise<void> {
    const told = this.lost;
    const notice = told > 0 ? `${new Date().toISOString()} sys [paasmaker] ${told} line${told === 1 ? '' : 's'} lost ${this.lostWhy === 'full' ? 'while the disk was full' : `(the log could not be written: ${this.lostWhy})`}\n` : '';
    const lead = this.cut ? '\n' : '';
    const data = Buffer.from(lead + notice + lines.join(''));
    let written = 0;
    try {
      this.fd ??= this.open();
      while (written < data.length) written += await writeAt(this.fd, data, written);
      this.lost -= told;
      this.cut = false;
    } catch (error) {
      // Lines the disk took whole are kept; the rest are counted, and the file may end inside one.
      const kept = data.subarray(0, written);
      const head = Buffer.byteLength(lead + notice);
      if (told > 0 && written >= head) this.lost -= told;
      this.lost += lines.length - Math.max(0, countNewlines(kept) - countNewlines(Buffer.from(lead + notice)));
      if (written > 0) this.cut = kept[kept.length - 1] !== 0x0a;
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    this.failedAt = Date.now();
    const full = this.space ? this.space.report(error, `the log ${this.file}`) : isDiskFull(error);
    this.lostWhy = full ? 'full' : String((error as { code?: unknown }).code ?? (error as Error).message);
    // Opened again for the next try: the folder may have gone, or the file been moved.
    this.closeFd();
    this.size = undefined;
    // What is still queued is lost as well (a rotation in the queue is kept for later).
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i] !== ROTATE) {
        this.queue.splice(i, 1);
        this.lost++;
      }
    }
  }

  private open(): number {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const fd = openSync(this.file, 'a+', 0o600);
    const size = fstatSync(fd).size;
    if (size > 0 && !this.cut) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      this.cut = last[0] !== 0x0a;
    }
    return fd;
  }

  /** The lines before the rotation are written: the file becomes `.1` and the next line starts a new one. */
  private rotate(): void {
    this.closeFd();
    try {
      renameSync(this.file, `${this.file}.1`);
    } catch {
      // gone already: start fresh anyway
    }
    this.cut = false;
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // closed is closed
    }
    this.fd = undefined;
  }

  /** Waits for queued lines to be written, then lets go of the file (a later line opens it again). */
  async close(): Promise<void> {
    while (this.draining) await this.draining;
    this.closeFd();
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function countNewlines(data: Buffer): number {
  let count = 0;
  for (let at = data.indexOf(0x0a); at !== -1; at = data.indexOf(0x0a, at + 1)) count++;
  return count;
}

function writeAt(fd: number, data: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, data, offset, data.length - offset, null, (error, bytes) => (error ? reject(error) : resolve(bytes))));
}
