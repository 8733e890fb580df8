import { createWriteStream, fstatSync, mkdirSync, openSync, renameSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

/** Past this size a log moves to `<file>.1` (replacing the one before) and starts again. */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/**
 * An append-only log of one process: `<ISO time> <out|err|sys> <line>` per
 * line, rotated by size so a chatty app never fills the disk: at most the
 * current file and one older one.
 */
export class LogFile {
  private stream: WriteStream | undefined;
  private size = 0;

  constructor(
    private readonly file: string,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  write(stream: 'out' | 'err' | 'sys', line: string, time: number): void {
    if (!this.stream) this.open();
    const text = `${new Date(time).toISOString()} ${stream} ${line}\n`;
    this.stream!.write(text);
    this.size += Buffer.byteLength(text);
    if (this.size >= this.maxBytes) this.rotate();
  }

  private open(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    // Opened now, not on the next tick: a rotation renames the file this descriptor already holds.
    const fd = openSync(this.file, 'a', 0o600);
    this.size = fstatSync(fd).size;
    this.stream = createWriteStream('', { fd });
    this.stream.on('error', () => {});
  }

  /** Lines still buffered go to the renamed file (its descriptor is still open); new lines to a fresh one. */
  private rotate(): void {
    const old = this.stream;
    this.stream = undefined;
    try {
      renameSync(this.file, `${this.file}.1`);
    } catch {
      // gone already: start fresh anyway
    }
    old?.end();
    this.size = 0;
  }

  close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    return new Promise((resolve) => (stream ? stream.end(resolve) : resolve()));
  }
}
