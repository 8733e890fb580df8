const MAX_LINE = 64 * 1024;

/** Turns a byte stream into lines; a partial line waits for its newline (or flush), an endless one is cut at 64 KiB. */
export class LineSplitter {
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      this.onLine(text.slice(start, end));
      start = newline + 1;
    }
    this.partial = text.slice(start);
    while (this.partial.length > MAX_LINE) {
      this.onLine(this.partial.slice(0, MAX_LINE));
      this.partial = this.partial.slice(MAX_LINE);
    }
  }

  flush(): void {
    if (this.partial.length > 0) this.onLine(this.partial);
    this.partial = '';
  }
}
