import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/shared/ports.js';
import type { ProcessInfo, ProcessSpec, ProcessState, Supervisor } from '../../src/supervisor/index.js';
import { alive, until } from './cli.js';

export { alive, freePort, until };

export const zoo = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'zoo');

/** A temporary folder for logs, removed by cleanup. */
export function tmpDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pm-sup-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A spec running one zoo fixture with node. */
export function zooSpec(dir: string, fixture: string, overrides: Partial<ProcessSpec> & { extraEnv?: Record<string, string> } = {}): ProcessSpec {
  const { extraEnv, ...rest } = overrides;
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...extraEnv };
  if (rest.port !== undefined) env.PORT = String(rest.port);
  return {
    id: `test/${fixture}.0`,
    command: `${JSON.stringify(process.execPath)} ${JSON.stringify(join(zoo, fixture))}`,
    cwd: dir,
    env,
    logFile: join(dir, `${fixture}.log`),
    ...rest,
  };
}

/** Resolves with the info of the first state event matching state (or predicate). */
export function nextState(supervisor: Supervisor, id: string, state: ProcessState | ((info: ProcessInfo) => boolean), timeoutMs = 15_000): Promise<ProcessInfo> {
  return new Promise((resolveState, reject) => {
    const timer = setTimeout(() => {
      supervisor.off('state', listener);
      reject(new Error(`timed out waiting for ${id} to reach ${String(state)} (now ${supervisor.info(id)?.state})`));
    }, timeoutMs);
    const listener = (info: ProcessInfo) => {
      if (info.id !== id) return;
      if (typeof state === 'string' ? info.state === state : state(info)) {
        clearTimeout(timer);
        supervisor.off('state', listener);
        resolveState(info);
      }
    };
    supervisor.on('state', listener);
  });
}

/** pid=N values a fixture printed to its log file. */
export function loggedPids(logFile: string, key = 'pid'): number[] {
  try {
    return [...readFileSync(logFile, 'utf8').matchAll(new RegExp(`\\b${key}=(\\d+)`, 'g'))].map((m) => Number(m[1]));
  } catch {
    return [];
  }
}

/** Processes whose command line mentions a folder (the servers and apps of one test's home), by pid. */
export function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}
