import { basename } from 'node:path';
import type { ResolvedInstance, ResolvedManifest } from '../manifest/index.js';
import type { ProcessInfo } from '../supervisor/index.js';
import { portFlags } from './port-flags.js';

/** Addresses a connection to 127.0.0.1 reaches. */
const REACHABLE = new Set(['127.0.0.1', '0.0.0.0', '::']);

/** Where a manifest setting goes: the YAML file, or a paasmaker.yml beside a Procfile (which has no settings). */
function settingPlace(manifest: ResolvedManifest, instance: ResolvedInstance, key: string): string {
  const file = basename(manifest.file);
  return /\.ya?ml$/.test(file) ? `instances.${instance.name}.${key} in ${file}` : `instances.${instance.name}.${key} in a paasmaker.yml (a ${file} cannot say it)`;
}

/** The timeout to suggest: twice the current one, or half again the longest a start that worked took, whichever is more. */
function longerTimeout(info: ProcessInfo, seconds: number): number {
  const known = info.readyAfterMs !== undefined ? Math.ceil((info.readyAfterMs * 1.5) / 1000) : 0;
  return Math.max(seconds * 2, known);
}

/** Why the port flag a known server needs was not added, as the end of a sentence. */
const NOT_ADDED = {
  'not-simple': 'to a command with a pipe, a subshell, a redirection or a background job (or a package.json script that has one)',
  'not-last': 'when the server is not the last command of the line',
  off: 'with port_flag: false',
} as const;

/** A known development server the command runs, whose port flag was not added: what to add, and why Paasmaker did not. */
function portFlagHint(instance: ResolvedInstance, manifest: ResolvedManifest): string | undefined {
  if (instance.command === undefined) return undefined;
  const flags = portFlags(instance.command, { directory: manifest.directory, enabled: instance.portFlag });
  if (!flags.server || flags.added.length > 0 || flags.left === undefined || flags.left === 'sets-port') return undefined;
  return `it runs ${flags.server.name}, which takes its port from a flag, not from PORT, and Paasmaker adds none ${NOT_ADDED[flags.left]}: add \`${flags.needed.join(' ')}\` to the ${flags.server.name} command (${settingPlace(manifest, instance, 'command')}, or the package.json script it runs)`;
}

/**
 * The likely fix when a process was given up as not ready: it listens on
 * another port than $PORT (a port written into the app), on an address the
 * router cannot reach, does not answer its health path, or starts more
 * slowly than its health.timeout allows. A known development server that
 * takes its port from a flag Paasmaker could not add is told first.
 */
export function readinessHint(info: ProcessInfo, instance: ResolvedInstance, manifest: ResolvedManifest): string | undefined {
  const notReady = info.notReady;
  if (!notReady || info.port === undefined) return undefined;
  const port = info.port;
  const seconds = notReady.afterMs / 1000;
  const onPort = notReady.listening.filter((socket) => socket.port === port);
  const others = [...new Set(notReady.listening.filter((socket) => socket.port !== port).map((socket) => socket.port))];
  if (onPort.length === 0) {
    const flag = portFlagHint(instance, manifest);
    if (flag) return flag;
  }
  if (onPort.length === 0 && others.length > 0) {
    const ports = others.length === 1 ? `${others[0]}` : `ports ${others.join(', ')}`;
    return `your app listens on ${ports}, not on the port it is given: use the PORT environment variable ($PORT, ${port} this time) instead of a fixed port`;
  }
  if (onPort.length > 0 && !onPort.some((socket) => REACHABLE.has(socket.address))) {
    return `your app listens on ${onPort.map((socket) => socket.address).join(', ')} port ${port}, which 127.0.0.1 does not reach: listen on 0.0.0.0 (or 127.0.0.1)`;
  }
  if (onPort.length > 0) {
    return instance.health.path ? `it listens on $PORT but ${instance.health.path} did not answer below 500 within ${seconds} s: fix that path in the app, or ${settingPlace(manifest, instance, 'health.path')}` : undefined;
  }
  return `it listened on no port within ${seconds} s: if it starts slowly, give it longer with health.timeout: ${longerTimeout(info, seconds)} (${settingPlace(manifest, instance, 'health.timeout')}); if it never listens, make it listen on $PORT`;
}
