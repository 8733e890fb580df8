import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homeLayout } from '../shared/paths.js';
import { portOwner } from '../shared/port-holder.js';
import type { DoctorCheck } from '../shared/views.js';
import { CERTUTIL_INSTALL, rootFiles, trustStatus, trustStores, type TrustRow } from '../tls/index.js';
import { platformName, type PlatformPorts } from './doctor-dns.js';

const DAY_MS = 86_400_000;
/** A root this close to its end is said to need replacing. */
const ROOT_ENDING_MS = 30 * DAY_MS;

const check = (name: string, ok: boolean, what: string, fix: string | null = null): DoctorCheck => ({ name, ok, what, fix });
/** Passes, with a step worth taking. */
const advice = (name: string, what: string, fix: string): DoctorCheck => ({ name, ok: true, what, fix });

const TAKEN_FIX = 'stop it, or give the router another: PAASMAKER_TLS_PORT=N (or --tls-port N on up and daemon start)';

/**
 * The router's TLS port: held by each running platform that listens with
 * TLS; else the configured one, free or held by something else (the router
 * then goes on without https).
 */
function tlsPortChecks(configuredPort: number | undefined, platforms: PlatformPorts[]): DoctorCheck[] {
  const ours = new Set(platforms.map((platform) => platform.pid));
  const secure = platforms.filter((platform) => platform.tlsPort !== null && platform.tlsPort !== undefined);
  const checks: DoctorCheck[] = [];
  for (const platform of secure) {
    const port = platform.tlsPort!;
    const owner = portOwner(port);
    checks.push(
      owner?.pid !== undefined && !ours.has(owner.pid)
        ? check('tls', false, `port ${port}, the https port of ${platformName(platform)}, is held by ${owner.command} (pid ${owner.pid})`, TAKEN_FIX)
        : check('tls', true, `the router of ${platformName(platform)} listens with TLS (https) on port ${port}`),
    );
  }
  if (secure.length > 0 || configuredPort === undefined || configuredPort === 0) return checks;
  const running = platforms.length > 0 ? ` (${platforms.map(platformName).join(' and ')} run${platforms.length === 1 ? 's' : ''} without https)` : '';
  const owner = portOwner(configuredPort);
  if (!owner) return [check('tls', true, `port ${configuredPort} is free for the router's https${running}`)];
  const who = owner.pid !== undefined && ours.has(owner.pid) ? null : owner.pid !== undefined ? `${owner.command} (pid ${owner.pid})` : `another user's process (uid ${owner.uid})`;
  if (!who) return [check('tls', true, `port ${configuredPort}, the router's https port, is held by this home's Paasmaker`)];
  return [advice('tls', `port ${configuredPort}, the router's https port, is held by ${who}: the router listens without https${running}`, TAKEN_FIX)];
}

/** The local CA's root: there or not yet, readable, and how long it lasts. */
function rootCheck(tlsDir: string, now: number): { check: DoctorCheck; root?: X509Certificate } {
  const file = rootFiles(tlsDir).cert;
  if (!existsSync(file)) return { check: check('tls-root', true, `no local certificate authority yet (${file} is made at the first start with https, or by paasmaker trust)`) };
  let root: X509Certificate;
  try {
    root = new X509Certificate(readFileSync(file));
  } catch (error) {
    return { check: check('tls-root', false, `${file} cannot be read: ${(error as Error).message}`, `move the folder aside (mv ${tlsDir} ${tlsDir}.old): the next start makes a new root, which must be trusted anew (paasmaker trust)`) };
  }
  const name = /CN=([^\n]*)/.exec(root.subject)?.[1] ?? root.subject;
  const end = Date.parse(root.validTo);
  const until = new Date(end).toISOString().slice(0, 10);
  const renew = `take the old root out of the stores (paasmaker trust --uninstall), move the folder aside (mv ${tlsDir} ${tlsDir}.old) and start again, then paasmaker trust for the new root`;
  if (end <= now) return { check: check('tls-root', false, `the local certificate authority's root (${name}, ${file}) expired on ${until}`, renew), root };
  if (end - now < ROOT_ENDING_MS) return { check: advice('tls-root', `the local certificate authority's root (${name}, ${file}) ends on ${until}`, renew), root };
  return { check: check('tls-root', true, `the local certificate authority's root (${name}) is in ${file}, valid until ${until}`), root };
}

function trustCheck(row: TrustRow): DoctorCheck {
  const where = row.store === 'system' ? `the system store (${row.reader})` : `the NSS database of ${row.reader} (${row.location})`;
  const readers = row.store === 'system' ? 'curl, OpenSSL and most programs' : row.reader.replace(/ \(.*\)$/, '');
  return row.trusted
    ? check('trust', true, `the root is trusted by ${where}`)
    : advice('trust', `the root is not trusted by ${where}: ${readers} refuse${row.store === 'system' ? '' : 's'} https:// on the router`, 'run: paasmaker trust (it says what it changes and asks first)');
}

/** https: the router's TLS port, the local CA's root, and where the root is trusted (warnings, not failures, where it is not). */
export function tlsChecks(home: string, configuredPort: number | undefined, platforms: PlatformPorts[], env: NodeJS.ProcessEnv, now = Date.now()): DoctorCheck[] {
  const checks = tlsPortChecks(configuredPort, platforms);
  const tlsDir = homeLayout(home).tls;
  const root = rootCheck(tlsDir, now);
  checks.push(root.check);
  if (!root.root) return checks;
  const stores = trustStores(env);
  try {
    checks.push(...trustStatus(root.root, tlsDir, stores).map(trustCheck));
  } catch (error) {
    checks.push(check('trust', false, (error as Error).message, (error as { hint?: string }).hint ?? 'see the error above'));
  }
  if (!stores.certutil && stores.databases.some((database) => database.exists)) {
    checks.push(advice('trust', `certutil is not installed, so whether the browsers' NSS databases (${stores.databases.filter((database) => database.exists).map((database) => database.dir).join(', ')}) trust the root is not known`, CERTUTIL_INSTALL()));
  }
  return checks;
}
