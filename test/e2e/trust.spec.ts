import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DoctorCheckSchema } from '../../src/shared/views.js';
import { uniqueName } from '../../src/tls/index.js';
import { CHROMIUM, browserMissing } from '../console/browser.js';
import { examples, repoRoot, runCli, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';
import { haveTmux, openTerminal, type Terminal } from '../helpers/tmux.js';

// `paasmaker trust` changes this machine's real trust stores: the Debian
// system store (/usr/local/share/ca-certificates, update-ca-certificates)
// needs root, which CI is. Every test takes out what it added, in afterAll,
// whatever its assertions did, so that no test's root stays trusted.

const ANCHORS = '/usr/local/share/ca-certificates';
const BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const isRoot = process.getuid?.() === 0;
const canTrust = isRoot && existsSync(ANCHORS) && existsSync('/usr/sbin/update-ca-certificates') && existsSync('/usr/bin/certutil');
if (!canTrust) {
  const message = 'the trust tests need root, Debian\'s update-ca-certificates and certutil (apt-get install libnss3-tools)';
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`skipping: ${message}`);
}

const Checks = z.array(DoctorCheckSchema.strict());

/** A HOME whose Chromium NSS database is made and empty, as Chromium leaves it at its first start. */
function userHome(): { dir: string; nssdb: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pm-user-'));
  const nssdb = join(dir, '.pki', 'nssdb');
  mkdirSync(nssdb, { recursive: true, mode: 0o700 });
  execFileSync('certutil', ['-N', '--empty-password', '-d', `sql:${nssdb}`]);
  return { dir, nssdb, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The nicknames an NSS database lists. */
function nicknames(nssdb: string): string[] {
  const listing = execFileSync('certutil', ['-L', '-d', `sql:${nssdb}`], { encoding: 'utf8' });
  return listing
    .split('\n')
    .slice(4)
    .map((line) => /^(.*\S)\s+\S*,\S*,\S*\s*$/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** Whether the system bundle (what curl and OpenSSL read) holds this certificate. */
function bundleHolds(root: X509Certificate): boolean {
  const text = readFileSync(BUNDLE, 'utf8');
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].some((match) => Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64').equals(root.raw));
}

const paasmakerAnchors = () => readdirSync(ANCHORS).filter((name) => name.startsWith('paasmaker-'));

/** Whatever a failed test left: its recorded entries taken out by trust itself, then (should that fail) its file removed by hand. */
async function untrust(pmHome: string, env: Record<string, string>): Promise<void> {
  await runCli(['trust', '--uninstall', '--yes'], { home: pmHome, env });
  const rootFile = join(pmHome, 'tls', 'root.pem');
  if (!existsSync(rootFile)) return;
  const file = join(ANCHORS, `${uniqueName(new X509Certificate(readFileSync(rootFile)))}.crt`);
  if (existsSync(file)) {
    rmSync(file);
    execFileSync('update-ca-certificates', ['--fresh'], { stdio: 'ignore' });
  }
}

/** The daemon of a home, started with this HOME, running hello-node: its https port. */
async function daemonWithHelloNode(pmHome: string, env: Record<string, string>): Promise<number> {
  const up = await runCli(['up', '-d', join(examples, 'hello-node')], { home: pmHome, env });
  expect(up.exitCode, up.stderr).toBe(0);
  const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home: pmHome, env })).stdout) as { tlsPort: number | null };
  expect(status.tlsPort).toBeGreaterThan(0);
  await until(() => existsSync(join(pmHome, 'tls', 'root.pem')), 20_000, 'root.pem');
  return status.tlsPort!;
}

async function doctorTrust(pmHome: string, env: Record<string, string>) {
  const result = await runCli(['doctor', '--json'], { home: pmHome, env });
  return Checks.parse(JSON.parse(result.stdout)).filter((check) => check.name === 'trust' || check.name === 'tls' || check.name === 'tls-root');
}

/** curl as a user runs it: no --cacert, only the system store to verify with. */
const curl = (url: string) => execa('curl', ['-sS', '--max-time', '15', url], { reject: false });

describe.skipIf(!canTrust)('paasmaker trust, on this machine', () => {
  let pm: ReturnType<typeof tempHome>;
  let user: ReturnType<typeof userHome>;
  const env = () => ({ HOME: user.dir });
  let tlsPort = 0;
  let root: X509Certificate;

  beforeAll(async () => {
    pm = tempHome();
    user = userHome();
    tlsPort = await daemonWithHelloNode(pm.home, env());
    root = new X509Certificate(readFileSync(join(pm.home, 'tls', 'root.pem')));
  }, 90_000);

  afterAll(async () => {
    if (!pm) return;
    await untrust(pm.home, env());
    await stopDaemonAndRemove(pm.home, pm.cleanup);
    user?.cleanup();
  }, 90_000);

  it('without a terminal and without --yes: says what it would do, refuses with exit 1, and changes nothing', async () => {
    const refused = await runCli(['trust'], { home: pm.home, env: env() });
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toContain(`install -m 644 ${join(pm.home, 'tls', 'root.pem')} ${ANCHORS}/${uniqueName(root)}.crt`);
    expect(refused.stdout).toContain('update-ca-certificates');
    expect(refused.stdout).toContain(`certutil -A -d sql:${user.nssdb} -t C,, -n ${uniqueName(root)}`);
    expect(refused.stderr).toContain('refusing to change the trust stores without confirmation');
    expect(refused.stderr).toContain('paasmaker trust --yes');
    expect(paasmakerAnchors()).not.toContain(`${uniqueName(root)}.crt`);
    expect(nicknames(user.nssdb)).toEqual([]);
    expect(existsSync(join(pm.home, 'tls', 'trust.json'))).toBe(false);
  });

  it('trust --yes: curl without --cacert reaches hello-node through the daemon, Chromium\'s NSS database lists the root, doctor says so; --uninstall --yes takes out both and only those', async () => {
    const url = `https://hello-node.localhost:${tlsPort}/`;
    const before = await curl(url);
    expect(before.exitCode).toBe(60); // the peer's certificate cannot be verified
    expect(await doctorTrust(pm.home, env())).toEqual([
      { name: 'tls', ok: true, what: expect.stringMatching(new RegExp(`^the router of the daemon \\(pid \\d+\\) listens with TLS \\(https\\) on port ${tlsPort}$`)), fix: null },
      { name: 'tls-root', ok: true, what: expect.stringContaining(`is in ${join(pm.home, 'tls', 'root.pem')}, valid until`), fix: null },
      { name: 'trust', ok: true, what: 'the root is not trusted by the system store (Debian/Ubuntu): curl, OpenSSL and most programs refuse https:// on the router', fix: expect.stringContaining('paasmaker trust') },
      { name: 'trust', ok: true, what: `the root is not trusted by the NSS database of Chromium (${user.nssdb}): Chromium refuses https:// on the router`, fix: expect.stringContaining('paasmaker trust') },
    ]);
    const othersBefore = paasmakerAnchors().filter((name) => name !== `${uniqueName(root)}.crt`);

    const trusted = await runCli(['trust', '--yes'], { home: pm.home, env: env() });
    expect(trusted.exitCode, trusted.stderr).toBe(0);
    expect(trusted.stdout).toContain('✓ add the root to the system store (Debian/Ubuntu)');
    expect(trusted.stdout).toContain(`✓ add the root to the NSS database of Chromium, ${user.nssdb}`);
    expect(bundleHolds(root)).toBe(true);
    expect(nicknames(user.nssdb)).toEqual([uniqueName(root)]);
    const after = await curl(url);
    expect(after.exitCode, after.stderr).toBe(0);
    expect(after.stdout).toContain('Hello from Paasmaker');
    expect((await doctorTrust(pm.home, env())).filter((check) => check.name === 'trust')).toEqual([
      { name: 'trust', ok: true, what: 'the root is trusted by the system store (Debian/Ubuntu)', fix: null },
      { name: 'trust', ok: true, what: `the root is trusted by the NSS database of Chromium (${user.nssdb})`, fix: null },
    ]);
    const record = join(pm.home, 'tls', 'trust.json');
    expect(readFileSync(record, 'utf8')).toContain(uniqueName(root));
    expect(execFileSync('stat', ['-c', '%a', record], { encoding: 'utf8' }).trim()).toBe('600');

    // Twice: nothing runs again, nothing is duplicated.
    const again = await runCli(['trust', '--yes'], { home: pm.home, env: env() });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('Nothing to do');
    expect(again.stdout).not.toContain('update-ca-certificates');
    expect(nicknames(user.nssdb)).toEqual([uniqueName(root)]);
    const status = JSON.parse((await runCli(['trust', '--status', '--json'], { home: pm.home, env: env() })).stdout) as unknown[];
    expect(status).toEqual([
      { store: 'system', reader: 'Debian/Ubuntu', location: `${ANCHORS}/${uniqueName(root)}.crt`, trusted: true, added: true },
      { store: 'nss', reader: 'Chromium', location: user.nssdb, trusted: true, added: true },
    ]);

    const removed = await runCli(['trust', '--uninstall', '--yes'], { home: pm.home, env: env() });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`rm -f ${ANCHORS}/${uniqueName(root)}.crt`);
    expect(bundleHolds(root)).toBe(false);
    expect(readdirSync('/etc/ssl/certs').filter((name) => name.startsWith(uniqueName(root)))).toEqual([]);
    expect(nicknames(user.nssdb)).toEqual([]);
    expect((await curl(url)).exitCode).toBe(60);
    expect(existsSync(record)).toBe(false);
    // Another root's file (another home's, or the machine's own) is not ours to take.
    expect(paasmakerAnchors().filter((name) => name !== `${uniqueName(root)}.crt`)).toEqual(othersBefore);
    expect((await doctorTrust(pm.home, env())).filter((check) => check.name === 'trust').map((check) => check.what.startsWith('the root is not trusted'))).toEqual([true, true]);

    const nothing = await runCli(['trust', '--uninstall', '--yes'], { home: pm.home, env: env() });
    expect(nothing.exitCode).toBe(0);
    expect(nothing.stdout).toContain('Nothing to take out');
  }, 120_000);
});

describe.skipIf(!canTrust || browserMissing() !== undefined)('Chromium with the root in its NSS database', () => {
  let pm: ReturnType<typeof tempHome>;
  let user: ReturnType<typeof userHome>;
  const env = () => ({ HOME: user.dir });
  let tlsPort = 0;

  beforeAll(async () => {
    pm = tempHome();
    user = userHome();
    tlsPort = await daemonWithHelloNode(pm.home, env());
  }, 90_000);

  afterAll(async () => {
    if (!pm) return;
    await untrust(pm.home, env());
    await stopDaemonAndRemove(pm.home, pm.cleanup);
    user?.cleanup();
  }, 90_000);

  /** Loads a page in a headless Chromium whose HOME (where it finds ~/.pki/nssdb) is the test's. */
  async function load(url: string) {
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'pm-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      env: { ...process.env, HOME: user.dir },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    try {
      const page = await context.newPage();
      const response = await page.goto(url).then(
        (answer) => ({ answer, error: undefined }),
        (error: Error) => ({ answer: null, error: error.message }),
      );
      return { error: response.error, ok: response.answer?.ok() ?? false, security: (await response.answer?.securityDetails()) ?? null, text: response.answer ? await page.textContent('body') : null };
    } finally {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    }
  }

  it('trust --no-system --yes: Chromium loads https://hello-node.localhost:PORT/ with no certificate error, issued by the root; before, it refused it', async () => {
    const url = `https://hello-node.localhost:${tlsPort}/`;
    const refused = await load(url);
    expect(refused.error).toContain('net::ERR_CERT_AUTHORITY_INVALID');

    const trusted = await runCli(['trust', '--no-system', '--yes'], { home: pm.home, env: env() });
    expect(trusted.exitCode, trusted.stderr).toBe(0);
    expect(trusted.stdout).not.toContain('system store');
    const root = new X509Certificate(readFileSync(join(pm.home, 'tls', 'root.pem')));
    expect(paasmakerAnchors()).not.toContain(`${uniqueName(root)}.crt`);

    const loaded = await load(url);
    expect(loaded.error).toBeUndefined();
    expect(loaded.ok).toBe(true);
    expect(loaded.text).toContain('Hello from Paasmaker');
    expect(loaded.security?.issuer).toBe(/CN=(.*)/.exec(root.subject)![1]);
    expect(loaded.security?.subjectName).toBe('hello-node.localhost');
  }, 120_000);
});

describe.skipIf(!canTrust || !existsSync('/usr/bin/setpriv'))('paasmaker trust as a user who is not root, without sudo', () => {
  const NOBODY = 65534;
  let dir = '';
  let pmHome = '';
  let user = '';
  let nssdb = '';
  /** A PATH with node and certutil only: no sudo on it. */
  let bin = '';

  /** The CLI run as nobody (setpriv), in its own home and HOME. */
  const asNobody = (args: string[]) =>
    execa('/usr/bin/setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, join(repoRoot, 'bin', 'paasmaker'), ...args], {
      env: { PATH: bin, HOME: user, PAASMAKER_HOME: pmHome, NO_COLOR: '1' },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pm-nobody-'));
    pmHome = join(dir, 'pm');
    user = join(dir, 'user');
    nssdb = join(user, '.pki', 'nssdb');
    bin = join(dir, 'bin');
    mkdirSync(nssdb, { recursive: true });
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/usr/bin/certutil', join(bin, 'certutil'));
    execFileSync('certutil', ['-N', '--empty-password', '-d', `sql:${nssdb}`]);
    execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
  });

  afterAll(async () => {
    if (!dir) return;
    await untrust(pmHome, { HOME: user });
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('adds the root to its own NSS database, says which commands root must run for the system store, and exits 1; --uninstall takes out what it added', async () => {
    const trusted = await asNobody(['trust', '--yes']);
    expect(trusted.exitCode, trusted.stderr).toBe(1);
    const root = new X509Certificate(readFileSync(join(pmHome, 'tls', 'root.pem')));
    expect(trusted.stdout).toContain('! cannot add the root to the system store (Debian/Ubuntu), which curl, OpenSSL and most programs read: it needs root, and sudo is not installed: run these as root');
    expect(trusted.stdout).toContain(`install -m 644 ${join(pmHome, 'tls', 'root.pem')} ${ANCHORS}/${uniqueName(root)}.crt`);
    expect(trusted.stdout).toContain(`✓ add the root to the NSS database of Chromium, ${nssdb}`);
    expect(trusted.stderr).toContain('the root could not be added everywhere');
    expect(paasmakerAnchors()).not.toContain(`${uniqueName(root)}.crt`);
    expect(nicknames(nssdb)).toEqual([uniqueName(root)]);

    const removed = await asNobody(['trust', '--uninstall', '--yes']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).not.toContain('system store');
    expect(nicknames(nssdb)).toEqual([]);
  });

  it('started through sudo (as root, for another user), it refuses and says to run it as yourself', async () => {
    const result = await runCli(['trust', '--yes'], { home: pmHome, env: { SUDO_USER: 'ada', HOME: user } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('paasmaker trust runs as you, not through sudo');
  });
});

describe.skipIf(!canTrust || !haveTmux)('paasmaker trust in a terminal', () => {
  let pm: ReturnType<typeof tempHome>;
  let user: ReturnType<typeof userHome>;
  let terminal: Terminal | undefined;

  beforeAll(() => {
    pm = tempHome();
    user = userHome();
  });

  afterAll(async () => {
    terminal?.close();
    if (!pm) return;
    await untrust(pm.home, { HOME: user.dir });
    pm.cleanup();
    user.cleanup();
  }, 60_000);

  const run = (args: string) => {
    terminal?.close();
    const command = `env HOME=${user.dir} PAASMAKER_HOME=${pm.home} NO_COLOR=1 ${process.execPath} ${join(repoRoot, 'bin', 'paasmaker')} ${args}; echo "exit=$?"; sleep 60`;
    terminal = openTerminal(pm.home, 'trust', command, { width: 200, height: 50 });
    return terminal;
  };

  it('asks before it changes anything: no leaves every store as it was, yes adds the root', async () => {
    const first = run('trust --no-system');
    await until(() => first.screen().includes('Go on? [y/N]'), 20_000, 'the question');
    first.type('n');
    first.keys('Enter');
    await until(() => first.screen().includes('exit=0'), 10_000, 'the exit');
    expect(first.screen()).toContain('Nothing changed.');
    expect(nicknames(user.nssdb)).toEqual([]);

    const second = run('trust --no-system');
    await until(() => second.screen().includes('Go on? [y/N]'), 20_000, 'the question');
    second.type('y');
    second.keys('Enter');
    await until(() => second.screen().includes('exit=0'), 20_000, 'the exit');
    const root = new X509Certificate(readFileSync(join(pm.home, 'tls', 'root.pem')));
    expect(nicknames(user.nssdb)).toEqual([uniqueName(root)]);
  }, 60_000);
});
