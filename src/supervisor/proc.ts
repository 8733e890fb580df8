import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hasProc, processStartTime, statFields } from '../shared/process-start.js';
import type { JournalEntry } from './types.js';

export { processStartTime };

/** Processes whose process group is pgid. A zombie counts as gone. */
export function groupMembers(pgid: number): number[] {
  if (!hasProc) {
    try {
      const out = execFileSync('ps', ['-A', '-o', 'pid=,pgid=,stat='], { encoding: 'utf8' });
      return out
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((cols) => Number(cols[1]) === pgid && !cols[2]?.startsWith('Z'))
        .map((cols) => Number(cols[0]));
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const fields = statFields(Number(entry));
    // fields[0] is the state, fields[2] the process group.
    if (fields && fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

/**
 * Whether pid belongs to root: root itself, a process of root's group, or
 * one below root (its parent's parent…, even after it left the group).
 */
export function belongsTo(pid: number, root: number): boolean {
  for (let at = pid, hops = 0; at > 1 && hops < 64; hops++) {
    if (at === root) return true;
    const fields = statFields(at);
    if (!fields) return false;
    // fields[1] is the parent, fields[2] the process group.
    if (Number(fields[2]) === root) return true;
    at = Number(fields[1]);
  }
  return false;
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends SIGTERM to a group, then SIGKILL after graceMs; resolves when the group is empty (or the deadline passed). */
export async function killGroup(pgid: number, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!signalGroup(pgid, signal)) return;
  const deadline = Date.now() + graceMs;
  while (groupMembers(pgid).length > 0) {
    if (Date.now() >= deadline) {
      signalGroup(pgid, 'SIGKILL');
      const hard = Date.now() + 2000;
      while (groupMembers(pgid).length > 0 && Date.now() < hard) await sleep(20);
      return;
    }
    await sleep(20);
  }
}

/**
 * Reaps what an earlier Paasmaker left running, as recorded in the journal.
 * A group is ours when its leader still has the recorded start time, or when
 * its leader is gone but members remain (Linux never hands out a pid that is
 * still some group's id). A pid with another start time was recycled: never touched.
 */
export async function reapLeftovers(entries: JournalEntry[]): Promise<{ reaped: JournalEntry[]; gone: JournalEntry[]; recycled: JournalEntry[] }> {
  const reaped: JournalEntry[] = [];
  const gone: JournalEntry[] = [];
  const recycled: JournalEntry[] = [];
  const kills: Promise<void>[] = [];
  for (const entry of entries) {
    const start = processStartTime(entry.pid);
    if (start !== undefined && start !== entry.startTime) {
      recycled.push(entry);
      continue;
    }
    const leaderIsOurs = start === entry.startTime && entry.pid === entry.pgid;
    const members = groupMembers(entry.pgid);
    if (leaderIsOurs || (start === undefined && members.length > 0 && hasProc)) {
      reaped.push(entry);
      kills.push(killGroup(entry.pgid, 1000));
    } else if (start === entry.startTime) {
      // A journaled process that is not a group leader: kill it alone.
      reaped.push(entry);
      try {
        process.kill(entry.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    } else {
      gone.push(entry);
    }
  }
  await Promise.all(kills);
  return { reaped, gone, recycled };
}
