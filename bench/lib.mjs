// What the benches share: where the package is, waiting (for a first 200 too), a free port, the median, a numeric option.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const bin = join(root, 'bin', 'paasmaker');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Waits until http://127.0.0.1:port/ answers 2xx, polling every 5 ms; throws at the deadline. */
export async function firstOk(port, deadline) {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return;
    } catch {}
    await sleep(5);
  }
  throw new Error('no answer');
}

/** A loopback port free at the time of asking. */
export function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** `--name N` from the command line, a positive number (exit 2 on anything else), or the fallback. */
export function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!(value > 0)) {
    console.error(`--${name} needs a positive number`);
    process.exit(2);
  }
  return value;
}

/** The fields of /proc/PID/stat after the command name (index 0 is the state, 1 the parent, 2 the process group). */
export function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time (user + system) a process has used, in clock ticks (100 a second on Linux). */
export function cpuTicks(pid) {
  const fields = statFields(pid);
  return Number(fields[11]) + Number(fields[12]);
}

/** A process's resident memory (VmRSS), in kB; 0 when it cannot be read. */
export function rssKb(pid) {
  const match = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}
