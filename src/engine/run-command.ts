import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Keeper } from '../supervisor/index.js';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs one shell command to completion in its own process group (registered
 * with the keeper so it dies with Paasmaker), handing each output line to onLine.
 */
export function runCommand(
  command: string,
  options: {
    cwd: string;
    env: Record<string, string>;
    keeper?: Keeper;
    onLine: (line: string, stream: 'out' | 'err') => void;
    signal?: AbortSignal;
  },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pgid = child.pid;
    if (pgid !== undefined) options.keeper?.add(pgid);
    const onAbort = () => {
      if (pgid !== undefined) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => options.onLine(line, 'out'));
    createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (line) => options.onLine(line, 'err'));
    // A pipe that fails loses output, never the platform.
    for (const [stream, name] of [[child.stdout!, 'out'], [child.stderr!, 'err']] as const) {
      stream.on('error', (error) => options.onLine(`[paasmaker] could not read the step's std${name}: ${error.message}`, 'err'));
    }
    child.once('error', reject);
    child.once('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (pgid !== undefined) {
        // Take any background children of the step down with it.
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // the group is already empty
        }
        options.keeper?.remove(pgid);
      }
      resolve({ code, signal });
    });
  });
}
