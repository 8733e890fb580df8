import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { PaasmakerError } from '../shared/errors.js';

/**
 * Runs a database client (psql, mariadb, redis-cli) with its input on stdin,
 * never on the command line, so secrets stay out of `ps`. Resolves with
 * stdout; a failure is a SERVICE_FAILED error with the client's own words
 * (exitError). Past timeoutMs (30 s unless given) the client is killed and
 * the error says so: the server may still be running its statement.
 */
export async function runClient(
  command: string,
  args: string[],
  options: { input?: string; env?: Record<string, string>; what: string; secrets?: string[]; timeoutMs?: number; user?: { uid: number; gid: number }; cwd?: string },
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { child, exit } = startClient(command, args, { env: options.env, input: 'pipe', output: 'pipe', user: options.user, cwd: options.cwd });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  child.stdin?.end(options.input ?? '');
  const ended = await exit;
  clearTimeout(timer);
  if (ended.ok) return out;
  if (timedOut) throw exitError({ ...ended, errors: ended.errors || out }, `${options.what} (no answer within ${timeoutMs / 1000} s)`, options.secrets);
  throw exitError({ ...ended, errors: ended.errors || out }, options.what, options.secrets);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries fn until it succeeds or the time is up; the last error is thrown. */
export async function retry<T>(fn: () => Promise<T>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await sleep(everyMs);
    }
  }
}

/** How a database tool started with startClient ended. */
export interface ClientExit {
  ok: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Stopped by the caller's AbortSignal. */
  aborted: boolean;
  /** The end of what it wrote on stderr. */
  errors: string;
  /** It could not be started at all (ENOENT: not installed). */
  spawnError?: NodeJS.ErrnoException;
}

const ERRORS_KEPT = 16 * 1024;

/**
 * Starts a database tool (pg_dump, pg_restore, psql, …) with an argv, for a
 * stream of data rather than a query: its input from another tool's stdout,
 * its output to a pipe or a file descriptor. Aborting the signal stops it.
 * Never rejects: the exit says how it went.
 */
export function startClient(
  command: string,
  args: string[],
  options: {
    env?: Record<string, string>;
    /** A stream piped to its stdin, or 'pipe' for the caller to write child.stdin. */
    input?: Readable | 'pipe';
    output?: 'pipe' | number;
    signal?: AbortSignal;
    onError?: (chunk: string) => void;
    /** How an abort stops it: SIGTERM unless given. */
    killSignal?: NodeJS.Signals;
    user?: { uid: number; gid: number };
    cwd?: string;
  } = {},
): { child: ChildProcess; exit: Promise<ClientExit> } {
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    stdio: [options.input ? 'pipe' : 'ignore', options.output ?? 'ignore', 'pipe'],
    cwd: options.cwd,
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  });
  const exit = new Promise<ClientExit>((resolve) => {
    let errors = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      errors = (errors + chunk).slice(-ERRORS_KEPT);
      options.onError?.(chunk);
    });
    if (options.input) {
      if (options.input !== 'pipe') options.input.pipe(child.stdin!);
      child.stdin!.on('error', () => {}); // it may stop reading early: its exit says why
    }
    const stop = () => child.kill(options.killSignal ?? 'SIGTERM');
    if (options.signal?.aborted) stop();
    else options.signal?.addEventListener('abort', stop, { once: true });
    const end = (code: number | null, signal: NodeJS.Signals | null, error?: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', stop);
      if (error) errors += `could not run ${command}: ${error.message}`;
      const aborted = options.signal?.aborted ?? false;
      resolve({ ok: code === 0 && !aborted && !error, code, signal, aborted, errors, ...(error ? { spawnError: error } : {}) });
    };
    child.once('error', (error) => end(null, null, error));
    child.once('close', (code, signal) => end(code, signal));
  });
  return { child, exit };
}

/** The last lines of a tool's words, for an error's detail. */
export function lastLines(text: string, count = 6): string | undefined {
  return text.trim().split('\n').slice(-count).join('\n') || undefined;
}

/**
 * How a tool that failed is told: SERVICE_FAILED, "<what> failed (exit code
 * N | killed by SIG…)", the last lines of its words as the detail with each
 * of `secrets` blanked out. A tool that could not be started says so.
 */
export function exitError(exit: ClientExit, what: string, secrets: string[] = []): PaasmakerError {
  let words = lastLines(exit.errors) ?? '';
  for (const secret of secrets) if (secret) words = words.split(secret).join('********');
  if (exit.spawnError) return new PaasmakerError('SERVICE_FAILED', `${what}: ${words}`);
  return new PaasmakerError('SERVICE_FAILED', `${what} failed (${exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`})`, { detail: words || undefined });
}
