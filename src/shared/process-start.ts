import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export const hasProc = existsSync('/proc/self/stat');

/** Fields of /proc/PID/stat after the `(comm)`, which may itself hold spaces and parentheses. */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * When the kernel started a pid (clock ticks since boot on Linux), so that a
 * recycled pid is never mistaken for a process we started.
 */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (hasProc) {
    const fields = statFields(pid);
    // A zombie has finished; only its parent's wait() is missing. It counts as gone.
    if (!fields || fields[0] === 'Z') return undefined;
    // Field 22 (starttime); fields[0] is field 3 (state).
    return fields[19];
  }
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}
