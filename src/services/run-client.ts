import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { PaasmakerError } from '../shared/errors.js';

/**
 * Runs a database client (psql, mariadb, redis-cli) with its input on stdin,
 * never on the command line, so secrets stay out of `ps`. Resolves with
 * stdout; a failure is a SERVICE_FAILED error with the client's own words.
 */
export function runClient(
  command: string,
  args: string[],
  options: { input?: string; env?: Record<string, string>; what: string; secrets?: string[]; timeoutMs?: number; user?: { uid: number; gid: number }; cwd?: string },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: options.cwd,
      ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new PaasmakerError('SERVICE_FAILED', `${options.what}: could not run ${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(out);
        return;
      }
      let words = (err.trim() || out.trim()).split('\n').slice(-6).join('\n');
      for (const secret of options.secrets ?? []) if (secret) words = words.split(secret).join('********');
      reject(new PaasmakerError('SERVICE_FAILED', `${options.what} failed (${signal ? `killed by ${signal}` : `exit code ${code}`})`, { detail: words || undefined }));
    });
    child.stdin.on('error', () => {}); // the client may exit before reading everything
    child.stdin.end(options.input ?? '');
  });
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
  options: { env?: Record<string, string>; input?: Readable; output?: 'pipe' | number; signal?: AbortSignal; onError?: (chunk: string) => void } = {},
): { child: ChildProcess; exit: Promise<ClientExit> } {
  const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: [options.input ? 'pipe' : 'ignore', options.output ?? 'ignore', 'pipe'] });
  const exit = new Promise<ClientExit>((resolve) => {
    let errors = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      errors = (errors + chunk).slice(-ERRORS_KEPT);
      options.onError?.(chunk);
    });
    if (options.input) {
      options.input.pipe(child.stdin!);
      child.stdin!.on('error', () => {}); // it may stop reading early: its exit says why
    }
    const stop = () => child.kill('SIGTERM');
    if (options.signal?.aborted) stop();
    else options.signal?.addEventListener('abort', stop, { once: true });
    const end = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      options.signal?.removeEventListener('abort', stop);
      if (error) errors += `could not run ${command}: ${error.message}`;
      const aborted = options.signal?.aborted ?? false;
      resolve({ ok: code === 0 && !aborted && !error, code, signal, aborted, errors });
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
