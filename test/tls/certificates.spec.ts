import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { Certificates, LocalCa, rootCommonName } from '../../src/tls/index.js';

// The local CA on real files in a temporary folder, and its certificates
// checked the way a client checks them: a TLS handshake that trusts the root.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tlsDir(): string {
  const home = mkdtempSync(join(tmpdir(), 'pm-tls-'));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  return join(home, 'tls');
}

/** A TLS server presenting this key and certificate; what a client trusting the root makes of it. */
async function handshake(files: { keyPem: string; certPem: string }, name: string, rootPem: string): Promise<{ ok: true } | { ok: false; error: string }> {
  const server: Server = createServer({ key: files.keyPem, cert: files.certPem }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', servername: name, ca: rootPem }, () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, error: `${error.code}: ${error.message}` }));
  });
}

describe('the local CA', () => {
  it('makes its root on first use: ECDSA P-256, named after whose machine it is, the key readable by its owner only', async () => {
    const dir = tlsDir();
    const ca = await LocalCa.open(dir);
    const root = new X509Certificate(readFileSync(join(dir, 'root.pem')));
    expect(root.subject).toContain(`CN=${rootCommonName()}`);
    expect(rootCommonName()).toMatch(/^Paasmaker local CA \(.+@.+\)$/);
    expect(root.ca).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(statSync(join(dir, 'root-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // Opened again (the next start), it is the same root.
    const again = await LocalCa.open(dir);
    expect(again.root.fingerprint256).toBe(ca.root.fingerprint256);
  });

  it('two platforms opening one folder at once end up with one root', async () => {
    const dir = tlsDir();
    const [a, b, c] = await Promise.all([LocalCa.open(dir), LocalCa.open(dir), LocalCa.open(dir)]);
    expect(new Set([a.root.fingerprint256, b.root.fingerprint256, c.root.fingerprint256]).size).toBe(1);
    expect(a.root.fingerprint256).toBe(new X509Certificate(readFileSync(join(dir, 'root.pem'))).fingerprint256);
  });

  it('tightens a root key left readable by others to 0600', async () => {
    const dir = tlsDir();
    await LocalCa.open(dir);
    chmodSync(join(dir, 'root-key.pem'), 0o644);
    await LocalCa.open(dir);
    expect(statSync(join(dir, 'root-key.pem')).mode & 0o777).toBe(0o600);
  });

  it('refuses a key that is not the root\'s, saying how to start again', async () => {
    const dir = tlsDir();
    await LocalCa.open(dir);
    const other = tlsDir();
    await LocalCa.open(other);
    writeFileSync(join(dir, 'root-key.pem'), readFileSync(join(other, 'root-key.pem')));
    await expect(LocalCa.open(dir)).rejects.toThrow(/root-key.pem is not the key of root.pem/);
  });

  it('its certificates verify for local names; one it signed for a real domain is refused by the name constraint', async () => {
    const dir = tlsDir();
    const ca = await LocalCa.open(dir);
    for (const name of ['shop.localhost', 'localhost', 'shop.local.paasmaker']) {
      expect(await handshake(await ca.issue(name, 3_600_000), name, ca.rootPem), name).toEqual({ ok: true });
    }
    // What a stolen root key could sign is worthless outside the local zones.
    const outside = await handshake(await ca.issue('bank.example.com', 3_600_000), 'bank.example.com', ca.rootPem);
    expect(outside.ok).toBe(false);
    expect(outside.ok === false && outside.error).toMatch(/PERMITTED_SUBTREE_VIOLATION|permitted subtree/i);
  });
});

describe('certificates on demand', () => {
  it('signs once for a name asked for by many handshakes at once, then serves the same one', async () => {
    const certificates = new Certificates({ dir: tlsDir() });
    const leaves = await Promise.all(Array.from({ length: 8 }, () => certificates.leafFor('shop.localhost')));
    expect(new Set(leaves.map((leaf) => leaf.serial)).size).toBe(1);
    expect((await certificates.leafFor('shop.localhost')).serial).toBe(leaves[0]!.serial);
    expect((await certificates.leafFor('other.localhost')).serial).not.toBe(leaves[0]!.serial);
  });

  it('keeps each on disk (0600) and serves it again after a restart', async () => {
    const dir = tlsDir();
    const first = await new Certificates({ dir }).leafFor('shop.localhost');
    const file = join(dir, 'leaves', 'shop.localhost.pem');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const after = await new Certificates({ dir }).leafFor('shop.localhost');
    expect(after.serial).toBe(first.serial);
  });

  it('replaces a certificate near its end, in memory and on disk', async () => {
    const dir = tlsDir();
    // An hour's validity, replaced within two hours of its end: every certificate is already near it.
    const short = new Certificates({ dir, leafValidityMs: 3_600_000, renewWithinMs: 7_200_000 });
    const first = await short.leafFor('shop.localhost');
    expect(first.notAfter - Date.now()).toBeLessThanOrEqual(3_600_000);
    const second = await short.leafFor('shop.localhost');
    expect(second.serial).not.toBe(first.serial);
    // A restart finds the short one on disk near its end too, and signs a new one.
    const restarted = await new Certificates({ dir, leafValidityMs: 3_600_000, renewWithinMs: 7_200_000 }).leafFor('shop.localhost');
    expect(restarted.serial).not.toBe(second.serial);
    // With the usual margin, the hour-long one on disk is served as it is.
    const usual = await new Certificates({ dir, renewWithinMs: 60_000 }).leafFor('shop.localhost');
    expect(usual.serial).toBe(restarted.serial);
  });

  it('refuses names outside the local zones, and what is not a host name', async () => {
    const dir = tlsDir();
    const certificates = new Certificates({ dir });
    await expect(certificates.leafFor('shop.example.com')).rejects.toThrow(/outside the zones the local CA may sign for/);
    await expect(certificates.leafFor('../../etc/passwd.localhost')).rejects.toThrow(/not a host name/);
    expect(existsSync(join(dir, 'leaves'))).toBe(false);
  });

  it('clears away certificates of an earlier root', async () => {
    const dir = tlsDir();
    await new Certificates({ dir }).leafFor('shop.localhost');
    // A new root (the folder's root moved aside): the old certificate is no longer served.
    rmSync(join(dir, 'root.pem'));
    rmSync(join(dir, 'root-key.pem'));
    const certificates = new Certificates({ dir });
    const leaf = await certificates.leafFor('shop.localhost');
    const ca = await certificates.authority();
    expect(ca.signed(new X509Certificate(readFileSync(join(dir, 'leaves', 'shop.localhost.pem'))))).toBe(true);
    expect(leaf.serial).toBe(new X509Certificate(readFileSync(join(dir, 'leaves', 'shop.localhost.pem'))).serialNumber);
  });
});
