import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { callApi, daemonFile, runningDaemon, type DaemonRecord } from '../api/client.js';
import { PaasmakerError } from '../shared/errors.js';
import { selfCommand } from '../shared/executable.js';
import { ownerAlive } from '../shared/owner.js';
import { homeLayout } from '../shared/paths.js';
import type { Settings } from '../shared/settings.js';
import { State } from '../state/index.js';

/**
 * The node flags the daemon runs with (bench/README.md, the daemon's memory).
 * Without TurboFan while it loads and while its apps only start, it keeps
 * about 8 MB less: what TurboFan compiles then (the module loader's URL code,
 * the manifest reader) and the memory its compilations leave behind; `gc`
 * lets it collect once when a burst of work is over (runDaemon), about 4 MB.
 * (--v8-pool-size=1 would keep 2–3 MB less but cost the router 20 % of its
 * CPU per request: its many small scavenges run with fewer helpers.)
 */
export const DAEMON_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=1', '--no-turbofan', '--expose-gc'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the daemon in the background unless it runs; resolves with its
 * record. Its router takes the port given with --proxy-port, else the one of
 * its last run (apps keep their URLs across restarts), else the environment's
 * or the default; its https port the same way (--tls-port, --no-tls).
 */
export async function ensureDaemon(settings: Settings): Promise<{ record: DaemonRecord; started: boolean }> {
  const layout = homeLayout(settings.home);
  const running = runningDaemon(layout.root);
  if (running) return { record: running, started: false };
  // A state.db that cannot serve is said here, in the user's terminal, not only in the daemon's log.
  State.open(layout.stateDb, { fullCheck: true }).close();
  let proxyPort = settings.source.proxyPort === 'flag' ? String(settings.proxyPort) : undefined;
  // The https port likewise: as asked (a port, or --no-tls), else the last run's, else the environment's or the default.
  let tls = settings.source.tlsPort !== 'flag' ? [] : settings.tlsPort === undefined ? ['--no-tls'] : ['--tls-port', String(settings.tlsPort)];
  if (proxyPort === undefined || tls.length === 0) {
    try {
      const previous = JSON.parse(readFileSync(daemonFile(layout.root), 'utf8')) as DaemonRecord;
      if (proxyPort === undefined && previous.proxyPort) proxyPort = String(previous.proxyPort);
      if (tls.length === 0 && previous.tlsPort) tls = ['--tls-port', String(previous.tlsPort)];
    } catch {
      // first start
    }
  }
  mkdirSync(layout.logs, { recursive: true, mode: 0o700 });
  const logFile = join(layout.logs, 'daemon.log');
  const log = openSync(logFile, 'a', 0o600);
  // A 1 MB young generation keeps a long-lived daemon's memory small (75 MB with 20 apps, against
  // 92 MB by default) and costs the router no throughput (measured with bench/fixtures/router.mjs).
  // It starts without V8's optimising compiler (DAEMON_NODE_OPTIONS): runDaemon turns it on at the
  // router's first requests. (The single executable takes no node flags: it runs with the default.)
  const [command, ...self] = selfCommand(DAEMON_NODE_OPTIONS);
  const args = [...self, 'daemon', 'run', ...(proxyPort !== undefined ? ['--proxy-port', proxyPort] : []), ...tls, ...(settings.apiPort !== undefined ? ['--api-port', String(settings.apiPort)] : [])];
  const child = spawn(command!, args, { detached: true, stdio: ['ignore', log, log], env: process.env });
  closeSync(log);
  child.unref();
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const record = runningDaemon(layout.root);
    if (record) {
      try {
        await callApi(record.socket, 'GET', '/api/v1/status', undefined, 2000);
        return { record, started: true };
      } catch {
        // not answering yet
      }
    }
    if (exited !== undefined) break;
    await sleep(30);
  }
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-8).join('\n') : '';
  throw new PaasmakerError('SERVICE_FAILED', 'the daemon did not start', { detail: tail || undefined, hint: `its log: ${logFile}` });
}

/** Stops the daemon of a home and waits until it is gone; the record of the one stopped, or undefined when none ran. */
export async function stopDaemon(home: string, timeoutMs = 30_000): Promise<DaemonRecord | undefined> {
  const record = runningDaemon(home);
  if (!record) return undefined;
  await callApi(record.socket, 'POST', '/api/v1/daemon/stop', {}).catch(() => process.kill(record.pid, 'SIGTERM'));
  const deadline = Date.now() + timeoutMs;
  while (runningDaemon(home) || ownerAlive(record.pid, record.startTime)) {
    if (Date.now() > deadline) throw new PaasmakerError('APP_RUNNING', `the daemon (pid ${record.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s`, { hint: `kill ${record.pid}` });
    await sleep(50);
  }
  return record;
}
