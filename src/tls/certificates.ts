import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { LocalCa, rootFiles, type KeyAndCertificate } from './local-ca.js';
import { inLocalZones, LOCAL_ZONES, validHostName } from './zones.js';

const DAY_MS = 86_400_000;
/** How long a certificate for a name lives: short, since a new one costs a few milliseconds. */
export const LEAF_VALIDITY_MS = 7 * DAY_MS;
/** A certificate this close to its end is replaced at the next handshake for its name. */
export const RENEW_WITHIN_MS = 2 * DAY_MS;

export interface CertificatesOptions {
  /** Where the CA keeps its root and, in leaves/, the certificates it signed: PAASMAKER_HOME/tls. */
  dir: string;
  leafValidityMs?: number;
  renewWithinMs?: number;
}

/** A certificate the router can present for one name. */
export interface Leaf {
  name: string;
  /** Upper-case hex, as Node's X509Certificate gives it. */
  serial: string;
  /** Epoch ms. */
  notAfter: number;
  context: SecureContext;
}

/** A name the CA will not certify, and why. */
export class NoCertificate extends Error {}

/**
 * Certificates on demand: the first handshake for a name gets one signed by
 * the local CA, kept in memory and in PAASMAKER_HOME/tls/leaves/NAME.pem (so
 * a restart serves the same one), and replaced when it comes near its end.
 * Handshakes that arrive together for a new name wait for one signing.
 */
export class Certificates {
  private authorityOpening: Promise<LocalCa> | undefined;
  private readonly leaves = new Map<string, Leaf>();
  private readonly issuing = new Map<string, Promise<Leaf>>();
  private readonly validityMs: number;
  private readonly renewWithinMs: number;

  constructor(private readonly options: CertificatesOptions) {
    this.validityMs = options.leafValidityMs ?? LEAF_VALIDITY_MS;
    this.renewWithinMs = options.renewWithinMs ?? RENEW_WITHIN_MS;
  }

  /** root.pem: what a client is given to verify the router (curl --cacert). */
  get rootFile(): string {
    return rootFiles(this.options.dir).cert;
  }

  private get leavesDir(): string {
    return join(this.options.dir, 'leaves');
  }

  /** The local CA, its root made on first use; certificates of an earlier root or past their end are cleared away. */
  authority(): Promise<LocalCa> {
    if (!this.authorityOpening) {
      const opening = LocalCa.open(this.options.dir);
      this.authorityOpening = opening;
      opening.then(
        (ca) => this.prune(ca),
        // Failed (a folder not writable): the next handshake tries again.
        () => {
          if (this.authorityOpening === opening) this.authorityOpening = undefined;
        },
      );
    }
    return this.authorityOpening;
  }

  /** The certificate for a host name (lower case, no trailing dot): kept, read back from disk, or newly signed. */
  leafFor(name: string): Promise<Leaf> {
    const kept = this.leaves.get(name);
    if (kept && this.fresh(kept)) return Promise.resolve(kept);
    if (!validHostName(name)) return Promise.reject(new NoCertificate(`${JSON.stringify(name.slice(0, 80))} is not a host name a certificate can carry`));
    if (!inLocalZones(name)) {
      return Promise.reject(new NoCertificate(`${name} is outside the zones the local CA may sign for (${LOCAL_ZONES.map((zone) => `*.${zone}`).join(', ')}); it is served over plain HTTP only`));
    }
    let pending = this.issuing.get(name);
    if (!pending) {
      pending = this.obtain(name).finally(() => this.issuing.delete(name));
      this.issuing.set(name, pending);
    }
    return pending;
  }

  /** The TLS context for a name (what the router's SNI callback asks for). */
  async contextFor(name: string): Promise<SecureContext> {
    return (await this.leafFor(name)).context;
  }

  private fresh(leaf: Leaf): boolean {
    return leaf.notAfter - Date.now() > this.renewWithinMs;
  }

  private async obtain(name: string): Promise<Leaf> {
    const ca = await this.authority();
    const file = join(this.leavesDir, `${name}.pem`);
    const stored = this.read(file, name, ca);
    if (stored && this.fresh(stored)) {
      this.leaves.set(name, stored);
      return stored;
    }
    const issued = await ca.issue(name, this.validityMs);
    const leaf = toLeaf(name, issued);
    this.leaves.set(name, leaf);
    try {
      mkdirSync(this.leavesDir, { recursive: true, mode: 0o700 });
      const temporary = `${file}.${process.pid}.new`;
      writeFileSync(temporary, issued.keyPem + issued.certPem, { mode: 0o600 });
      renameSync(temporary, file);
    } catch {
      // Not kept on disk (a full disk): served from memory all the same, and signed anew after a restart.
    }
    return leaf;
  }

  /** A certificate kept on disk for this name, if it is readable and this root's. */
  private read(file: string, name: string, ca: LocalCa): Leaf | undefined {
    try {
      const text = readFileSync(file, 'utf8');
      const leaf = toLeaf(name, { keyPem: text, certPem: text });
      return ca.signed(new X509Certificate(text)) ? leaf : undefined;
    } catch {
      return undefined;
    }
  }

  private prune(ca: LocalCa): void {
    let names: string[];
    try {
      names = readdirSync(this.leavesDir);
      chmodSync(this.leavesDir, 0o700);
    } catch {
      return;
    }
    for (const entry of names) {
      // (One being written now.)
      if (entry.endsWith('.new')) continue;
      const file = join(this.leavesDir, entry);
      try {
        const certificate = new X509Certificate(readFileSync(file));
        if (Date.parse(certificate.validTo) > Date.now() && ca.signed(certificate)) continue;
      } catch {
        // unreadable: not a certificate of ours
      }
      rmSync(file, { force: true });
    }
  }
}

function toLeaf(name: string, files: KeyAndCertificate): Leaf {
  const certificate = new X509Certificate(files.certPem);
  return {
    name,
    serial: certificate.serialNumber,
    notAfter: Date.parse(certificate.validTo),
    context: createSecureContext({ key: files.keyPem, cert: files.certPem }),
  };
}
