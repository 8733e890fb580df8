import { writeSync } from 'node:fs';

/**
 * The daemon's own lines, to its log (its stdout is that file). A line the
 * disk has no room for is counted, never thrown: the next one that fits says
 * how many were lost.
 */
export function daemonLog(): (line: string) => void {
  let lost = 0;
  return (line) => {
    const time = new Date().toISOString();
    try {
      if (lost > 0) writeSync(1, `${time} [paasmaker] ${lost} line${lost === 1 ? '' : 's'} lost while the disk was full\n`);
      lost = 0;
      writeSync(1, `${time} ${line}\n`);
    } catch {
      lost++;
    }
  };
}
