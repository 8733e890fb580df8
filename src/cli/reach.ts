import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { apiSocketFor, runningDaemon } from '../api/client.js';
import { PaasmakerError } from '../shared/errors.js';
import { ownerAlive } from '../shared/owner.js';
import { homeLayout } from '../shared/paths.js';

// How a command finds the platform to talk to: the daemon, or the foreground
// `paasmaker up` that runs an app, each serving the API on a Unix socket.

async function readState<T>(fn: (state: import('./read-state.js').State) => T): Promise<T | undefined> {
  return (await import('./read-state.js')).readState(fn);
}

/** The socket of a running platform of this home: the daemon's, else a foreground `up`'s; undefined when none runs. */
export async function runningPlatform(): Promise<string | undefined> {
  const home = homeLayout().root;
  const daemon = runningDaemon(home);
  if (daemon) return daemon.socket;
  const owners = (await readState((state) => state.apps.list().map((record) => ({ pid: record.ownerPid, start: record.ownerStart })))) ?? [];
  for (const owner of owners) {
    if (owner.pid === null || !ownerAlive(owner.pid, owner.start)) continue;
    const socket = apiSocketFor(home, owner.pid);
    if (existsSync(socket)) return socket;
  }
  return undefined;
}

/**
 * The socket of the platform that runs this app, or an error that says how
 * to start one; `why` says what needs it ("its crons run where the app runs").
 */
export async function platformRunning(app: string, options: { dir?: string; why?: string } = {}): Promise<string> {
  const record = await readState((state) => state.apps.get(app));
  const claimed = record !== undefined && record.state !== 'stopped';
  if (claimed && ownerAlive(record.ownerPid, record.ownerStart)) {
    const socket = apiSocketFor(homeLayout().root, record.ownerPid!);
    if (existsSync(socket)) return socket;
  }
  const project = options.dir ? ` ${resolve(options.dir)}` : '';
  const why = options.why ? ` (${options.why})` : '';
  const hint = `start it with the daemon: paasmaker up -d${project} (or in the foreground: paasmaker up${project}), then try again`;
  if (claimed && record.ownerPid) {
    throw new PaasmakerError('PLATFORM_UNREACHABLE', `app "${app}" is not running: the paasmaker that ran it (pid ${record.ownerPid}) is gone${why}`, { hint });
  }
  throw new PaasmakerError('APP_NOT_FOUND', `app "${app}" is not running${why}`, { hint });
}

/** The app named, or the one whose project is the folder `dir`. */
export async function appNamed(name: string | undefined, dir: string, usage: string): Promise<string> {
  if (name) return name;
  const path = resolve(dir);
  if (existsSync(path) && statSync(path).isDirectory()) return (await import('../manifest/index.js')).loadManifest(path).application.name;
  throw new PaasmakerError('USAGE', 'which app?', { hint: usage });
}
