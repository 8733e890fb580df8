import { spawn } from 'node:child_process';
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
