import { runningDaemon } from '../../api/client.js';
import { homeLayout } from '../../shared/paths.js';
import { resolveSettings } from '../../shared/settings.js';
import { lookup, Resolver } from 'node:dns/promises';
import { request } from 'node:http';
import { DNS_ZONE } from '../../shared/settings.js';
import { portHolder } from '../../shared/port-holder.js';
import { filesystemOf } from '../../shared/disk-space.js';
import { errorText } from '../../shared/errors.js';
import { degradedPlatforms } from '../degraded.js';
import { readState } from '../read-state.js';
import { colorEnabled, painter } from '../output.js';

interface Check {
  ok: boolean;
  what: string;
  fix?: string;
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

/** state.db opens and checks out; the disk holding PAASMAKER_HOME has room; no running platform is degraded. */
async function storageChecks(home: string): Promise<Check[]> {
  const checks: Check[] = [];
  let owners: Array<{ pid: number; startTime: string | null }> = [];
  try {
    const found = readState((state) => state.apps.list().flatMap((record) => (record.ownerPid ? [{ pid: record.ownerPid, startTime: record.ownerStart }] : [])));
    owners = found ?? [];
    checks.push({ ok: true, what: found ? `the state database ${homeLayout(home).stateDb} is sound` : `no state database yet (the first paasmaker up makes ${homeLayout(home).stateDb})` });
  } catch (error) {
    checks.push({ ok: false, what: errorText(error), fix: (error as { hint?: string }).hint ?? 'see the error above' });
  }
  const filesystem = filesystemOf(home);
  const freeSpace = `free space on ${filesystem.mountPoint} (the file system holding ${home}; see: df -h ${home})`;
  for (const platform of await degradedPlatforms(home, owners)) {
    checks.push({ ok: false, what: `paasmaker (pid ${platform.pid}) runs degraded: ${platform.degraded.reason}`, fix: `${freeSpace}; it writes again by itself once there is room` });
  }
  if (filesystem.free !== undefined) {
    checks.push(
      filesystem.free < LOW_SPACE
        ? { ok: false, what: `only ${megabytes(filesystem.free)} free on ${filesystem.mountPoint}, which holds PAASMAKER_HOME`, fix: freeSpace }
        : { ok: true, what: `${megabytes(filesystem.free)} free on ${filesystem.mountPoint}, which holds PAASMAKER_HOME` },
    );
  }
  return checks;
}

/** `paasmaker doctor`: the router port and name resolution of both zones, each with what to fix. */
export async function doctor(): Promise<number> {
  const settings = resolveSettings();
  const daemon = runningDaemon(settings.home);
  const proxyPort = daemon?.proxyPort ?? settings.proxyPort;
  const dnsPort = settings.dnsPort;
  const checks: Check[] = [];
  if (daemon) checks.push({ ok: true, what: `the daemon runs (pid ${daemon.pid}), its router on port ${daemon.proxyPort}` });
  checks.push(...(await storageChecks(settings.home)));

  const router = await routerAnswers(proxyPort);
  const holder = router ? undefined : portHolder(proxyPort);
  checks.push(
    router
      ? { ok: true, what: `the router answers on port ${proxyPort}` }
      : holder
        ? { ok: false, what: `port ${proxyPort} is held by ${holder.command} (pid ${holder.pid}), not the router`, fix: 'stop it, or run paasmaker up --proxy-port N' }
        : { ok: false, what: `nothing listens on port ${proxyPort}`, fix: 'start a project with paasmaker up (or the daemon: paasmaker daemon start)' },
  );

  const localhost = await resolvesToLoopback('paasmaker-doctor.localhost');
  checks.push(
    localhost
      ? { ok: true, what: '*.localhost resolves to this machine' }
      : { ok: false, what: '*.localhost does not resolve to this machine', fix: 'use a browser (they resolve *.localhost themselves), or add names to /etc/hosts' },
  );

  // Port 0 (any free one) cannot be asked: the responder's port is known only to the platform that took it.
  if (dnsPort > 0) {
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${dnsPort}`]);
    const responder = await resolver.resolve4(`doctor.${DNS_ZONE}`).then((a) => a.includes('127.0.0.1'), () => false);
    checks.push(
      responder
        ? { ok: true, what: `the DNS responder for *.${DNS_ZONE} answers on 127.0.0.1:${dnsPort}` }
        : { ok: false, what: `no DNS responder for *.${DNS_ZONE} on 127.0.0.1:${dnsPort}`, fix: 'it runs while paasmaker up, or the daemon, runs' },
    );
  }
  const zone = await resolvesToLoopback(`paasmaker-doctor.${DNS_ZONE}`);
  checks.push(
    zone
      ? { ok: true, what: `*.${DNS_ZONE} resolves to this machine` }
      : { ok: false, what: `*.${DNS_ZONE} does not resolve through the system resolver`, fix: 'run: paasmaker dns setup' },
  );

  const paint = painter(colorEnabled());
  for (const check of checks) {
    process.stdout.write(`${check.ok ? paint('green', '✓') : paint('red', '✗')} ${check.what}\n`);
    if (!check.ok && check.fix) process.stdout.write(`  ${paint('cyan', 'fix:')} ${check.fix}\n`);
  }
  return checks.every((check) => check.ok) ? 0 : 1;
}
