import { callApi, runningDaemon } from '../api/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { homeLayout } from '../shared/paths.js';
import { appNamed } from './running-platform.js';

// What the version commands share: versions are the daemon's (paasmaker
// deploy starts it), so they ask the daemon.

/** The daemon's socket, or an error that says how to start it. */
export function daemonSocketOrFail(): string {
  const daemon = runningDaemon(homeLayout().root);
  if (!daemon) throw new PaasmakerError('PLATFORM_UNREACHABLE', 'the daemon is not running: deployed versions run in it', { hint: 'start it with: paasmaker daemon start (paasmaker deploy starts it too)' });
  return daemon.socket;
}

/** The app named, or the one of the project in this folder. */
export function versionsApp(name: string | undefined, usage: string): Promise<string> {
  return appNamed(name, '.', usage);
}

/** A version number as typed: 3 or v3. */
export function versionNumber(text: string, usage: string): number {
  const match = /^v?(\d+)$/.exec(text);
  if (!match || Number(match[1]) < 1) throw new PaasmakerError('USAGE', `"${text}" is not a version number`, { hint: usage });
  return Number(match[1]);
}

/** One request of a version command to the daemon; a deploy-long wait (a switch starts processes). */
export function versionsApi<T>(method: string, path: string, body?: unknown): Promise<T> {
  return callApi<T>(daemonSocketOrFail(), method, path, body, 3_600_000);
}

export const segment = encodeURIComponent;
