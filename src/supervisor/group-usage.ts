import { readdirSync, readFileSync } from 'node:fs';
import { hasProc, statFields } from '../shared/process-start.js';

/** What /proc says of one process group at one moment. */
export interface GroupUsage {
  /** Each live member's CPU time so far (user + system), in clock ticks. */
  ticks: Map<number, number>;
  /** The members' resident memory, summed, in bytes. */
  rss: number;
}

/** Clock ticks per second of /proc's times (USER_HZ: 100 on every Linux architecture Node runs on). */
export const CLOCK_TICKS = 100;

let pageSize: number | undefined;

/**
 * The kernel's page size, which /proc/PID/stat counts resident memory in:
 * this process's resident set in pages (statm) against the same in kB
 * (status), to the nearest power of two; 4096 when they cannot be read.
 */
function kernelPageSize(): number {
  if (pageSize !== undefined) return pageSize;
  pageSize = 4096;
  try {
    const pages = Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]);
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
    if (pages > 0 && kb > 0) pageSize = 2 ** Math.round(Math.log2((kb * 1024) / pages));
  } catch {
    // keep the common size
  }
  return pageSize;
}

/**
 * CPU time and resident memory of the members of each process group asked
 * for, from one pass over /proc (a stat file read per process, no child
 * process). Undefined where there is no /proc (macOS): usage is unknown there.
 */
export function groupUsage(pgids: ReadonlySet<number>): Map<number, GroupUsage> | undefined {
  if (!hasProc) return undefined;
  const page = kernelPageSize();
  const usage = new Map<number, GroupUsage>();
  if (pgids.size === 0) return usage;
  for (const entry of readdirSync('/proc')) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    // fields[0] is field 3 (state), [2] the group, [11] and [12] utime and stime, [21] rss in pages.
    const fields = statFields(Number(entry));
    if (!fields) continue; // gone meanwhile
    const pgid = Number(fields[2]);
    if (!pgids.has(pgid) || fields[0] === 'Z') continue;
    let group = usage.get(pgid);
    if (!group) usage.set(pgid, (group = { ticks: new Map(), rss: 0 }));
    group.ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    group.rss += Number(fields[21]) * page;
  }
  return usage;
}
