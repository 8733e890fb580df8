import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { portOwner, type PortOwner } from '../shared/port-holder.js';
import { DNS_ZONE } from '../shared/settings.js';
import type { DoctorCheck } from '../shared/views.js';

/** A running platform of this home, and the ports it took (see runningPlatforms in the API). */
export interface PlatformPorts {
  pid: number;
  kind: 'daemon' | 'up';
  proxyPort: number | null;
  dnsPort: number | null;
  /** The router's https port; null when it listens without TLS (absent from a platform that does not say). */
  tlsPort?: number | null;
}

export const platformName = (platform: PlatformPorts) => (platform.kind === 'daemon' ? `the daemon (pid ${platform.pid})` : `paasmaker up (pid ${platform.pid})`);

async function answers(port: number): Promise<boolean> {
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return resolver.resolve4(`doctor.${DNS_ZONE}`).then((found) => found.includes('127.0.0.1'), () => false);
}

/** PAASMAKER_HOME of a process, when its environment is ours to read; null when it runs with the default. */
function homeOf(pid: number): string | null | undefined {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return environ.find((entry) => entry.startsWith('PAASMAKER_HOME='))?.slice('PAASMAKER_HOME='.length) ?? null;
  } catch {
    return undefined;
  }
}

/** Who holds the port, in words: another user's process, another home's Paasmaker, or a program. */
function describe(owner: PortOwner): string {
  const me = typeof process.getuid === 'function' ? process.getuid() : owner.uid;
  if (owner.pid === undefined) return owner.uid === me ? 'a process this user cannot see' : `another user's process (uid ${owner.uid})`;
  if (owner.uid !== me) return `another user's ${owner.command} (pid ${owner.pid}, uid ${owner.uid})`;
  if (/paasmaker/.test(owner.command ?? '')) {
    const home = homeOf(owner.pid);
    return `another Paasmaker (pid ${owner.pid}${home ? `, PAASMAKER_HOME=${home}` : home === null ? ', the default home' : ''})`;
  }
  return `${owner.command} (pid ${owner.pid})`;
}

const check = (ok: boolean, what: string, fix: string | null = null): DoctorCheck => ({ name: 'dns-responder', ok, what, fix: ok ? null : fix });

const TAKEN_FIX = 'stop it, or give this home another port: PAASMAKER_DNS_PORT=N paasmaker up (then paasmaker dns setup, so the system asks that port)';

/**
 * The DNS responder for *.local.paasmaker: the one each running platform of
 * this home took, or, when none took one, whoever holds the configured port.
 * It is ours only when the process holding the port is one of this home's
 * platforms; a responder of another user or another home is named as such.
 */
export async function dnsResponderChecks(configuredPort: number, platforms: PlatformPorts[]): Promise<DoctorCheck[]> {
  const ours = new Set(platforms.map((platform) => platform.pid));
  const checks: DoctorCheck[] = [];
  for (const platform of platforms.filter((candidate) => candidate.dnsPort !== null)) {
    const port = platform.dnsPort!;
    const owner = portOwner(port, 'udp');
    const where = `127.0.0.1:${port}`;
    if (owner?.pid !== undefined && !ours.has(owner.pid)) checks.push(check(false, `${where} is held by ${describe(owner)}, not by ${platformName(platform)}`, TAKEN_FIX));
    else if (await answers(port)) checks.push(check(true, `the DNS responder of ${platformName(platform)} answers for *.${DNS_ZONE} on ${where}`));
    else checks.push(check(false, `the DNS responder of ${platformName(platform)} on ${where} does not answer`, 'restart it: stop it and run paasmaker up (or paasmaker daemon start) again'));
  }
  // Port 0 (any free one) cannot be asked: the responder's port is known only to the platform that took it.
  if (checks.length > 0 || configuredPort === 0) return checks;
  const where = `127.0.0.1:${configuredPort}`;
  const owner = portOwner(configuredPort, 'udp');
  const running = platforms.length > 0 ? `${platforms.map(platformName).join(' and ')} run${platforms.length === 1 ? 's' : ''} without one` : 'no platform of this home runs';
  if (owner?.pid !== undefined && !ours.has(owner.pid)) return [check(false, `${where}, the DNS responder's port, is held by ${describe(owner)}, not by this home's Paasmaker (${running})`, TAKEN_FIX)];
  if (owner && owner.pid === undefined) return [check(false, `${where}, the DNS responder's port, is held by ${describe(owner)} (${running})`, TAKEN_FIX)];
  if (await answers(configuredPort)) return [check(true, `a DNS responder answers for *.${DNS_ZONE} on ${where}`)];
  return [check(false, `no DNS responder for *.${DNS_ZONE} on ${where} (${running})`, 'it runs while paasmaker up, or the daemon, runs')];
}
