import { lookup } from 'node:dns/promises';
import { request } from 'node:http';
import type { Degraded } from '../shared/disk-space.js';
import { filesystemOf } from '../shared/disk-space.js';
import { errorText } from '../shared/errors.js';
import { homeLayout } from '../shared/paths.js';
import { portHolder } from '../shared/port-holder.js';
import { DNS_ZONE } from '../shared/settings.js';
import type { DoctorCheck } from '../shared/views.js';
import { dnsResponderChecks, platformName, type PlatformPorts } from './doctor-dns.js';
import { softwareChecks, type KnownProject } from './doctor-software.js';
import { tlsChecks } from './doctor-tls.js';

type Owner = { pid: number; startTime: string | null };

/** What the checks look at: the same facts whether the daemon or the CLI runs them. */
export interface DoctorFacts {
  home: string;
  /** The configured ports: checked when no running platform says which it took. */
  proxyPort: number;
  dnsPort: number;
  /** The configured https port; undefined when https is off. */
  tlsPort?: number;
  /** The running platforms of this home (the daemon first, then foreground `up`s) and the ports each took. */
  platforms: PlatformPorts[];
  /** The apps' owners from state.db, undefined when there is none yet; throws when it is damaged. */
  owners: () => Owner[] | undefined;
  /** The projects that have run here (from state.db), whose runtimes and database servers are checked. */
  projects: () => KnownProject[];
  /** The environment runtimes and binaries are looked for in (PATH). */
  env: NodeJS.ProcessEnv;
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

/** The router of each running platform, wherever it took its port; the configured port when none runs one. */
async function routerChecks(facts: DoctorFacts): Promise<DoctorCheck[]> {
  const routed = facts.platforms.filter((platform) => platform.proxyPort !== null);
  const checks: DoctorCheck[] = [];
  for (const platform of routed) {
    const port = platform.proxyPort!;
    checks.push(
      (await routerAnswers(port))
        ? check('router', true, `the router of ${platformName(platform)} answers on port ${port}`)
        : check('router', false, `the router of ${platformName(platform)} does not answer on port ${port}`, 'restart it: stop it and run paasmaker up (or paasmaker daemon start) again'),
    );
  }
  if (routed.length > 0) return checks;
  const port = facts.proxyPort;
  const running = facts.platforms.length > 0 ? ` (${facts.platforms.map(platformName).join(' and ')} run${facts.platforms.length === 1 ? 's' : ''} without a router)` : '';
  if (await routerAnswers(port)) return [check('router', true, `a router answers on port ${port}${running}`)];
  const holder = portHolder(port);
  return [
    holder
      ? check('router', false, `port ${port} is held by ${holder.command} (pid ${holder.pid}), not the router${running}`, 'stop it, or run paasmaker up --proxy-port N')
      : check('router', false, `nothing listens on port ${port}${running}`, 'start a project with paasmaker up (or the daemon: paasmaker daemon start)'),
  ];
}

/** The daemon, state and disk, the routers, https (its port, the local CA, where its root is trusted), name resolution of both zones, the runtimes and database servers: each with what to fix. */
export async function doctorChecks(facts: DoctorFacts): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const daemon = facts.platforms.find((platform) => platform.kind === 'daemon');
  if (daemon) checks.push(check('daemon', true, `the daemon runs (pid ${daemon.pid}), its router on port ${daemon.proxyPort}`));
  checks.push(...(await storageChecks(facts)));
  checks.push(...(await routerChecks(facts)));
  checks.push(...tlsChecks(facts.home, facts.tlsPort, facts.platforms, facts.env));

  const localhost = await resolvesToLoopback('paasmaker-doctor.localhost');
  checks.push(
    localhost
      ? check('localhost', true, '*.localhost resolves to this machine')
      : check('localhost', false, '*.localhost does not resolve to this machine', 'use a browser (they resolve *.localhost themselves), or add names to /etc/hosts'),
  );
  checks.push(...(await dnsResponderChecks(facts.dnsPort, facts.platforms)));
  const zone = await resolvesToLoopback(`paasmaker-doctor.${DNS_ZONE}`);
  checks.push(
    zone ? check('dns-zone', true, `*.${DNS_ZONE} resolves to this machine`) : check('dns-zone', false, `*.${DNS_ZONE} does not resolve through the system resolver`, 'run: paasmaker dns setup'),
  );
  let projects: KnownProject[] = [];
  try {
    projects = facts.projects();
  } catch {
    // a damaged state.db is the state check's to tell
  }
  checks.push(...(await softwareChecks(projects, facts.home, facts.env)));
  return checks;
}
