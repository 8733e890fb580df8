import { lookup, Resolver } from 'node:dns/promises';
import { request } from 'node:http';
import type { Degraded } from '../shared/disk-space.js';
import { filesystemOf } from '../shared/disk-space.js';
import { errorText } from '../shared/errors.js';
import { homeLayout } from '../shared/paths.js';
import { portHolder } from '../shared/port-holder.js';
import { DNS_ZONE } from '../shared/settings.js';
import type { DoctorCheck } from '../shared/views.js';

type Owner = { pid: number; startTime: string | null };

/** What the checks look at: the same facts whether the daemon or the CLI runs them. */
export interface DoctorFacts {
  home: string;
  proxyPort: number;
  dnsPort: number;
  /** The daemon of this home, when one runs. */
  daemon?: { pid: number; proxyPort: number | null };
  /** The apps' owners from state.db, undefined when there is none yet; throws when it is damaged. */
  owners: () => Owner[] | undefined;
  /** The running platforms of this home that run degraded. */
  degraded: (owners: Owner[]) => Promise<Array<{ pid: number; degraded: Degraded }>>;
}

const LOOPBACK = /^(127\.|::1$)/;

async function resolvesToLoopback(name: string): Promise<boolean> {
  try {
    const addresses = await lookup(name, { all: true });
    return addresses.length > 0 && addresses.every((address) => LOOPBACK.test(address.address));
  } catch {
    return false;
  }
}

function routerAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: 'paasmaker-doctor.localhost' }, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.headers['x-paasmaker'] === 'router');
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Below this, the disk holding PAASMAKER_HOME is about to stop the platform's writes. */
const LOW_SPACE = 50 * 1024 * 1024;

const megabytes = (bytes: number) => `${Math.floor(bytes / 1024 / 1024)} MB`;

const check = (name: string, ok: boolean, what: string, fix: string | null = null): DoctorCheck => ({ name, ok, what, fix: ok ? null : fix });

/** state.db opens and checks out; the disk holding PAASMAKER_HOME has room; no running platform is degraded. */
async function storageChecks(facts: DoctorFacts): Promise<DoctorCheck[]> {
  const { home } = facts;
  const checks: DoctorCheck[] = [];
  let owners: Owner[] = [];
  try {
    const found = facts.owners();
    owners = found ?? [];
    checks.push(check('state', true, found ? `the state database ${homeLayout(home).stateDb} is sound` : `no state database yet (the first paasmaker up makes ${homeLayout(home).stateDb})`));
  } catch (error) {
    checks.push(check('state', false, errorText(error), (error as { hint?: string }).hint ?? 'see the error above'));
  }
  const filesystem = filesystemOf(home);
  const freeSpace = `free space on ${filesystem.mountPoint} (the file system holding ${home}; see: df -h ${home})`;
  for (const platform of await facts.degraded(owners)) {
    checks.push(check('degraded', false, `paasmaker (pid ${platform.pid}) runs degraded: ${platform.degraded.reason}`, `${freeSpace}; it writes again by itself once there is room`));
  }
  if (filesystem.free !== undefined) {
    const low = filesystem.free < LOW_SPACE;
    checks.push(check('disk', !low, `${low ? 'only ' : ''}${megabytes(filesystem.free)} free on ${filesystem.mountPoint}, which holds PAASMAKER_HOME`, freeSpace));
  }
  return checks;
}

/** The daemon, state and disk, the router port and name resolution of both zones: each with what to fix. */
export async function doctorChecks(facts: DoctorFacts): Promise<DoctorCheck[]> {
  const { proxyPort, dnsPort, daemon } = facts;
  const checks: DoctorCheck[] = [];
  if (daemon) checks.push(check('daemon', true, `the daemon runs (pid ${daemon.pid}), its router on port ${daemon.proxyPort}`));
  checks.push(...(await storageChecks(facts)));

  const router = await routerAnswers(proxyPort);
  const holder = router ? undefined : portHolder(proxyPort);
  checks.push(
    router
      ? check('router', true, `the router answers on port ${proxyPort}`)
      : holder
        ? check('router', false, `port ${proxyPort} is held by ${holder.command} (pid ${holder.pid}), not the router`, 'stop it, or run paasmaker up --proxy-port N')
        : check('router', false, `nothing listens on port ${proxyPort}`, 'start a project with paasmaker up (or the daemon: paasmaker daemon start)'),
  );

  const localhost = await resolvesToLoopback('paasmaker-doctor.localhost');
  checks.push(
    localhost
      ? check('localhost', true, '*.localhost resolves to this machine')
      : check('localhost', false, '*.localhost does not resolve to this machine', 'use a browser (they resolve *.localhost themselves), or add names to /etc/hosts'),
  );

  // Port 0 (any free one) cannot be asked: the responder's port is known only to the platform that took it.
  if (dnsPort > 0) {
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${dnsPort}`]);
    const responder = await resolver.resolve4(`doctor.${DNS_ZONE}`).then((a) => a.includes('127.0.0.1'), () => false);
    checks.push(
      responder
        ? check('dns-responder', true, `the DNS responder for *.${DNS_ZONE} answers on 127.0.0.1:${dnsPort}`)
        : check('dns-responder', false, `no DNS responder for *.${DNS_ZONE} on 127.0.0.1:${dnsPort}`, 'it runs while paasmaker up, or the daemon, runs'),
    );
  }
  const zone = await resolvesToLoopback(`paasmaker-doctor.${DNS_ZONE}`);
  checks.push(
    zone ? check('dns-zone', true, `*.${DNS_ZONE} resolves to this machine`) : check('dns-zone', false, `*.${DNS_ZONE} does not resolve through the system resolver`, 'run: paasmaker dns setup'),
  );
  return checks;
}
