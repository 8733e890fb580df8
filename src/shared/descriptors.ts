import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The open-files limit of this process: soft (what applies) and hard (how far it may be raised). */
export interface DescriptorLimit {
  soft: number;
  hard: number;
}

/** Assumed where the limit cannot be read (macOS shells start at 256; Node raises it at start). */
const FALLBACK: DescriptorLimit = { soft: 1024, hard: 1024 };

/** Reads the limit from /proc/self/limits (Linux); a safe guess elsewhere. */
export function descriptorLimit(): DescriptorLimit {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return FALLBACK;
  }
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!match) return FALLBACK;
  const value = (field: string) => (field === 'unlimited' ? Number.POSITIVE_INFINITY : Number(field));
  const soft = value(match[1]!);
  const hard = value(match[2]!);
  return Number.isNaN(soft) || Number.isNaN(hard) ? FALLBACK : { soft, hard };
}

/**
 * Raises the soft limit to the hard one, so thousands of connections and
 * log files fit. Node has no setrlimit; `prlimit` (util-linux) can change a
 * running process. Skipped silently where it is missing or not allowed.
 */
export function raiseDescriptorLimit(): DescriptorLimit {
  const limit = descriptorLimit();
  if (limit.soft >= limit.hard || process.platform !== 'linux') return limit;
  const hard = Number.isFinite(limit.hard) ? String(limit.hard) : 'unlimited';
  const result = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`], { stdio: 'ignore', timeout: 2000 });
  return result.status === 0 ? descriptorLimit() : limit;
}
