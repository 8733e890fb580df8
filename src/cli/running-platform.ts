import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { apiSocketFor, callApi, pidAlive, platformSockets, runningDaemon, type AppRow } from '../api/index.js';
import { isPaasmakerError, PaasmakerError } from '../shared/errors.js';
import { ownerAlive } from '../shared/owner.js';
import { homeLayout } from '../shared/paths.js';
import type { State } from './read-state.js';

/** The API sockets of every running platform of this home: the daemon's first, then each foreground `up`'s. */
export { platformSockets };

/** The read-only view of state, loaded only when asked (when no platform runs to answer): undefined when nothing has run here. */
export async function readView<T>(fn: (state: State) => T): Promise<T | undefined> {
  return (await import('./read-state.js')).readState(fn);
}

/** The socket of a running platform (any answers for the whole state), the daemon's first; undefined when none runs. */
export function runningPlatform(): string | undefined {
  return platformSockets()[0];
}

/**
 * Asks the running platform, if one does, with ask; when none runs (or the one
 * found went away between the look and the call) the read-only view answers.
 */
export async function fromPlatform<T>(ask: (socket: string) => Promise<T>, otherwise: () => T | Promise<T>, options: { daemon?: boolean } = {}): Promise<T> {
  const socket = options.daemon ? runningDaemon(homeLayout().root)?.socket : runningPlatform();
  if (socket) {
    try {
      return await ask(socket);
    } catch (error) {
      if (!isPaasmakerError(error) || error.code !== 'PLATFORM_UNREACHABLE') throw error;
    }
  }
  return otherwise();
}

/** A GET of the running platform's API (`daemon`: only the daemon's); when none runs, `offline` answers, starting nothing. */
export function readFromPlatform<T>(path: string, offline: () => T | Promise<T>, options: { timeoutMs?: number; daemon?: boolean } = {}): Promise<T> {
  return fromPlatform((socket) => callApi<T>(socket, 'GET', path, undefined, options.timeoutMs ?? 5000), offline, options);
}

/**
 * The socket of the platform that runs this app (the daemon, or a foreground
 * up), asked through a running platform's API; undefined when none runs it.
 */
export async function appPlatform(socket: string, app: string): Promise<string | undefined> {
  const record = await callApi<AppRow>(socket, 'GET', `/api/v1/apps/${encodeURIComponent(app)}`, undefined, 5000).catch((error: unknown) => {
    if (isPaasmakerError(error) && error.code === 'APP_NOT_FOUND') return undefined;
    throw error;
  });
  if (!record || record.state === 'stopped' || record.ownerPid === null || !pidAlive(record.ownerPid)) return undefined;
  const owner = apiSocketFor(homeLayout().root, record.ownerPid);
  return existsSync(owner) ? owner : undefined;
}

/**
 * The socket of the platform that runs this app, or an error that says how
 * to start one; `why` says what needs it ("its crons run where the app runs").
 */
export async function platformRunning(app: string, options: { dir?: string; why?: string } = {}): Promise<string> {
  const record = await readView((state) => state.apps.get(app));
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

/**
 * Refuses an app name that no platform knows (exit 1, as `down` does), with
 * the known names as the hint; from the running platform, else the read-only view.
 */
export async function requireKnownApp(app: string | undefined, command: string): Promise<void> {
  if (app === undefined) return;
  const known = await readFromPlatform<Array<{ name: string }>>('/api/v1/apps', async () => (await readView((state) => state.apps.list())) ?? []);
  const names = known.map((record) => record.name);
  if (names.includes(app)) return;
  throw new PaasmakerError('APP_NOT_FOUND', `no app named "${app}"`, {
    hint: names.length > 0 ? `known apps: ${names.join(', ')} (paasmaker ${command} APP)` : 'no app has run yet: start one with paasmaker up [DIR]',
  });
}
