import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/** The last n lines of a file, reading backwards in chunks so a large log costs little. */
export function tailLines(file: string, n: number): string[] {
  if (n <= 0 || !existsSync(file)) return [];
  const size = statSync(file).size;
  const chunkSize = 64 * 1024;
  let position = size;
  let text = '';
  while (position > 0) {
    const start = Math.max(0, position - chunkSize);
    text = readRange(file, start, position) + text;
    position = start;
    if (text.split('\n').length > n + 1) break;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n);
}

export function readRange(file: string, start: number, end: number): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The last n lines of a process log, reaching into its rotated predecessor (`<file>.1`) when the current file is short. */
export function tailLog(file: string, n: number): string[] {
  const current = tailLines(file, n);
  if (current.length >= n) return current;
  return [...tailLines(`${file}.1`, n - current.length), ...current];
}

/** `<ISO time> <out|err|sys> <text>` → its parts; a line in another shape is all text. */
export function parseLogLine(raw: string): { time: string; stream: 'out' | 'err' | 'sys'; text: string } {
  const match = /^(\S+) (out|err|sys) (.*)$/s.exec(raw);
  return match ? { time: match[1]!, stream: match[2] as 'out' | 'err' | 'sys', text: match[3]! } : { time: '', stream: 'out', text: raw };
}
