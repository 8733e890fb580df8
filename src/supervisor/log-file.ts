import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

/** An append-only log of one process: `<ISO time> <out|err|sys> <line>` per line. */
export class LogFile {
  private stream: WriteStream | undefined;

  constructor(private readonly file: string) {}

  write(stream: 'out' | 'err' | 'sys', line: string, time: number): void {
    if (!this.stream) {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      this.stream = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
      this.stream.on('error', () => {});
    }
    this.stream.write(`${new Date(time).toISOString()} ${stream} ${line}\n`);
  }

  close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    return new Promise((resolve) => (stream ? stream.end(resolve) : resolve()));
  }
}
