import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalCa, nssDatabases, planTrust, planUntrust, readTrustRecord, recordAdded, recordRemoved, rootFiles, runAction, trustStatus, uniqueName, type TrustStores } from '../../src/tls/index.js';
import { bundleHolds } from '../../src/tls/system-store.js';

// The browsers' NSS databases found and changed in a temporary HOME with the
// real certutil; the system store is left alone here (test/e2e/trust.spec.ts
// changes it for real).

const haveCertutil = existsSync('/usr/bin/certutil');
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function scratch(): { home: string; tlsDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pm-trust-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'home'));
  return { home: join(dir, 'home'), tlsDir: join(dir, 'pm', 'tls') };
}

function nssdb(dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('certutil', ['-N', '--empty-password', '-d', `sql:${dir}`]);
  return dir;
}

/** A folder with one executable of this name in it: a PATH on which a program is "installed". */
function pathWith(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-path-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, name), '#!/bin/sh\n', { mode: 0o755 });
  return dir;
}

const stores = (home: string, path: string): TrustStores => ({ system: undefined, certutil: '/usr/bin/certutil', databases: nssDatabases({ HOME: home, PATH: path }, 'linux') });

describe.skipIf(!haveCertutil)("the browsers' NSS databases", () => {
  it("finds Chromium's and every Firefox profile's (classic and snap) that hold cert9.db; a profile folder without one is no database", () => {
    const { home } = scratch();
    nssdb(join(home, '.pki', 'nssdb'));
    nssdb(join(home, '.mozilla', 'firefox', 'abc.default-release'));
    mkdirSync(join(home, '.mozilla', 'firefox', 'Crash Reports'), { recursive: true });
    nssdb(join(home, 'snap', 'firefox', 'common', '.mozilla', 'firefox', 'xyz.default'));
    expect(nssDatabases({ HOME: home, PATH: '' }, 'linux')).toEqual([
      { dir: join(home, '.pki', 'nssdb'), reader: 'Chromium', exists: true },
      { dir: join(home, '.mozilla', 'firefox', 'abc.default-release'), reader: 'Firefox (profile abc.default-release)', exists: true },
      { dir: join(home, 'snap', 'firefox', 'common', '.mozilla', 'firefox', 'xyz.default'), reader: 'Firefox (profile xyz.default)', exists: true },
    ]);
  });

  it("a Chromium installed but never started: its ~/.pki/nssdb is made, as Chromium makes it, and the root added; with no Chromium there is nothing to add to", async () => {
    const { home, tlsDir } = scratch();
    const ca = await LocalCa.open(tlsDir);
    const rootFile = rootFiles(tlsDir).cert;
    expect(planTrust({ root: ca.root, rootFile }, tlsDir, { system: true, nss: true }, {}, stores(home, '')).actions).toEqual([]);

    const withChromium = stores(home, pathWith('chromium'));
    const plan = planTrust({ root: ca.root, rootFile }, tlsDir, { system: true, nss: true }, {}, withChromium);
    const dir = join(home, '.pki', 'nssdb');
    expect(plan.actions.map((action) => action.commands)).toEqual([
      [
        ['mkdir', '-p', '-m', '700', dir],
        ['/usr/bin/certutil', '-N', '--empty-password', '-d', `sql:${dir}`],
        ['/usr/bin/certutil', '-A', '-d', `sql:${dir}`, '-t', 'C,,', '-n', uniqueName(ca.root), '-i', rootFile],
      ],
    ]);
    runAction(plan.actions[0]!, tlsDir);
    recordAdded(tlsDir, plan.actions[0]!.entry);
    expect(trustStatus(ca.root, tlsDir, stores(home, ''))).toEqual([{ store: 'nss', reader: 'Chromium', location: dir, trusted: true, added: true }]);
  });

  it('a lost record: the root found under its own name is taken as added, and uninstall takes it out; a database deleted since is dropped from the record', async () => {
    const { home, tlsDir } = scratch();
    const ca = await LocalCa.open(tlsDir);
    const rootFile = rootFiles(tlsDir).cert;
    const chromium = nssdb(join(home, '.pki', 'nssdb'));
    const firefox = nssdb(join(home, '.mozilla', 'firefox', 'p.default'));
    const found = stores(home, '');
    for (const action of planTrust({ root: ca.root, rootFile }, tlsDir, { system: false, nss: true }, {}, found).actions) {
      runAction(action, tlsDir);
      recordAdded(tlsDir, action.entry);
    }
    expect(trustStatus(ca.root, tlsDir, found).map((row) => row.trusted)).toEqual([true, true]);

    rmSync(join(tlsDir, 'trust.json'));
    const again = planTrust({ root: ca.root, rootFile }, tlsDir, { system: false, nss: true }, {}, found);
    expect(again.actions.map((action) => [action.already, action.commands])).toEqual([
      [true, []],
      [true, []],
    ]);
    for (const action of again.actions) recordAdded(tlsDir, action.entry);
    expect(readTrustRecord(tlsDir).map((entry) => entry.store === 'nss' && entry.database)).toEqual([chromium, firefox]);

    rmSync(firefox, { recursive: true });
    const removal = planUntrust(tlsDir, {}, found);
    expect(removal.actions.map((action) => [action.already, action.commands])).toEqual([
      [false, [['/usr/bin/certutil', '-D', '-d', `sql:${chromium}`, '-n', uniqueName(ca.root)]]],
      [true, []],
    ]);
    for (const action of removal.actions) {
      if (!action.already) runAction(action, tlsDir);
      recordRemoved(tlsDir, action.entry);
    }
    expect(trustStatus(ca.root, tlsDir, stores(home, ''))).toEqual([{ store: 'nss', reader: 'Chromium', location: chromium, trusted: false, added: false }]);
    expect(existsSync(join(tlsDir, 'trust.json'))).toBe(false);
  });

  it('a database holding another certificate under the same nickname does not count as trusting the root', async () => {
    const { home, tlsDir } = scratch();
    const ca = await LocalCa.open(tlsDir);
    const other = await LocalCa.open(join(home, 'other-tls'));
    const dir = nssdb(join(home, '.pki', 'nssdb'));
    execFileSync('certutil', ['-A', '-d', `sql:${dir}`, '-t', 'C,,', '-n', uniqueName(ca.root), '-i', rootFiles(join(home, 'other-tls')).cert]);
    expect(other.root.raw.equals(ca.root.raw)).toBe(false);
    expect(trustStatus(ca.root, tlsDir, stores(home, ''))[0]!.trusted).toBe(false);
  });
});

describe('the system bundle', () => {
  it('holds a root only byte for byte', async () => {
    const { home, tlsDir } = scratch();
    const ca = await LocalCa.open(tlsDir);
    const other = await LocalCa.open(join(home, 'other-tls'));
    const bundle = join(home, 'bundle.pem');
    writeFileSync(bundle, `${other.rootPem}\n${ca.rootPem}`);
    expect(bundleHolds(bundle, ca.root)).toBe(true);
    writeFileSync(bundle, other.rootPem);
    expect(bundleHolds(bundle, ca.root)).toBe(false);
    expect(bundleHolds(join(home, 'none.pem'), ca.root)).toBe(false);
  });
});

describe('the trust record', () => {
  it('is refused when an entry names a file or store paasmaker never adds (the names reach commands run as root)', () => {
    const { tlsDir } = scratch();
    mkdirSync(tlsDir, { recursive: true });
    const record = (entry: object) => writeFileSync(join(tlsDir, 'trust.json'), JSON.stringify({ entries: [entry] }), { mode: 0o600 });
    record({ store: 'system', system: 'debian', unique: '../../../etc/passwd', location: '/etc/passwd', certificate: '' });
    expect(() => readTrustRecord(tlsDir)).toThrow(/not a root paasmaker added/);
    record({ store: 'system', system: 'plan9', unique: 'paasmaker-0123456789abcdef', location: '', certificate: '' });
    expect(() => readTrustRecord(tlsDir)).toThrow(/does not know/);
    record({ store: 'nss', reader: 'Chromium', database: 'relative/db', nickname: 'paasmaker-0123456789abcdef' });
    expect(() => readTrustRecord(tlsDir)).toThrow(/absolute folder/);
    record({ store: 'nss', reader: 'Chromium', database: '/tmp/db', nickname: 'paasmaker-0123456789abcdef' });
    expect(readTrustRecord(tlsDir)).toHaveLength(1);
  });
});
