import { constants } from 'node:os';
import { ERRORS, EXIT, isPaasmakerError } from '../shared/errors.js';

/** Colour only for terminals, never when NO_COLOR is set; FORCE_COLOR wins over the TTY test. */
export function colorEnabled(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0';
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;

export type Color = keyof typeof CODES;

export interface Paint {
  (color: Color, text: string): string;
  enabled: boolean;
}

export function painter(enabled: boolean): Paint {
  const paint = ((color: Color, text: string) => {
    if (!enabled) return text;
    const [open, close] = CODES[color];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }) as Paint;
  paint.enabled = enabled;
  return paint;
}

export { colorFor } from '../shared/name-colors.js';

/** Prints an error the way its kind deserves and returns the exit code. */
export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  const paint = painter(colorEnabled(process.stderr));
  if (isPaasmakerError(error)) {
    stderr.write(`${paint('red', 'error:')} ${error.message}\n`);
    if (error.detail) stderr.write(`${error.detail}\n`);
    if (error.hint) stderr.write(`${paint('cyan', 'hint:')} ${error.hint}\n`);
    return ERRORS[error.code].exit;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  stderr.write(`${paint('red', 'paasmaker hit an internal error (a bug):')}\n${stack}\n`);
  stderr.write('Please report it with the command you ran and the output above.\n');
  return EXIT.bug;
}

export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d`;
}

export { byteSize } from '../shared/usage-text.js';

/** A plain aligned table: header row then rows, columns separated by two spaces. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((header) => header.toUpperCase())), ...rows.map(line)].join('\n') + '\n';
}

/** Until Ctrl-C or SIGTERM (a command that follows ends there, with exit 0). */
export function interrupted(): Promise<void> {
  return new Promise((resolveWait) => {
    process.once('SIGINT', () => resolveWait());
    process.once('SIGTERM', () => resolveWait());
  });
}

/** The exit code of a command stopped by a signal, as shells and compose report it: 128 + its number (Ctrl-C 130, SIGTERM 143). */
export function signalExit(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Awaits work, and calls say once if it is still running after afterMs: a
 * step that is quick when warm (loading the engine) says what it does when
 * it is not (the first start after an install, a cold disk cache).
 */
export async function announceIfSlow<T>(work: Promise<T>, say: () => void, afterMs = 1000): Promise<T> {
  const timer = setTimeout(say, afterMs);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}
