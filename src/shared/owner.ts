import { processStartTime } from './process-start.js';

/** Who a Paasmaker process is, in a way that survives pid recycling. */
export interface Owner {
  pid: number;
  startTime: string;
}

export function currentOwner(): Owner {
  return { pid: process.pid, startTime: processStartTime(process.pid) ?? String(Date.now()) };
}

export function ownerAlive(pid: number | null | undefined, startTime: string | null | undefined): boolean {
  if (!pid || !startTime) return false;
  return processStartTime(pid) === startTime;
}
