import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import { signOffThread } from './signer.js';
import type { KeyAndCertificate } from './signing.js';

export type { KeyAndCertificate } from './signing.js';

/** The files of the local CA in its folder (PAASMAKER_HOME/tls). */
export function rootFiles(dir: string): { cert: string; key: string } {
  return { cert: join(dir, 'root.pem'), key: join(dir, 'root-key.pem') };
}

/** "Paasmaker local CA (ada@laptop)": whose machine the root belongs to, as a trust store lists it. */
export function rootCommonName(): string {
  let user = process.env.USER ?? '';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container's uid): the environment's word
  }
  return `Paasmaker local CA (${user || 'unknown'}@${hostname()})`;
}

/**
 * The machine's own certificate authority: an ECDSA P-256 root made on first
 * use in PAASMAKER_HOME/tls (root.pem, and root-key.pem readable by the owner
 * only), constrained to the local zones, that signs short-lived certificates
 * for the names the router serves.
 */
export class LocalCa {
  private constructor(
    readonly dir: string,
    /** The root, as Node reads it. */
    readonly root: X509Certificate,
    readonly rootPem: string,
    /** The root's private key (PKCS #8 PEM), handed to the signing thread with each ask. */
    private readonly keyPem: string,
  ) {}

  get subject(): string {
    return this.root.subject;
  }

  /** Loads the root of a folder, making it first when there is none. */
  static async open(dir: string): Promise<LocalCa> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const files = rootFiles(dir);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (existsSync(files.cert)) return LocalCa.load(dir);
      if (existsSync(files.key)) {
        // Another platform is making the root right now (key first, then certificate): wait for it.
        if (await appears(files.cert, 5000)) return LocalCa.load(dir);
        // A key without its certificate: a maker that died half way. Kept aside, never deleted.
        renameSync(files.key, `${files.key}.orphan-${Date.now()}`);
      }
      if (await LocalCa.create(dir)) return LocalCa.load(dir);
    }
    throw new PaasmakerError('CONFIG_INVALID', `could not make the local certificate authority in ${dir}`, { hint: `check that the folder is yours and writable (ls -la ${dir})` });
  }

  private static async load(dir: string): Promise<LocalCa> {
    const files = rootFiles(dir);
    const rootPem = readFileSync(files.cert, 'utf8');
    const keyPem = readFileSync(files.key, 'utf8');
    // The key is the owner's alone, whatever copied it here.
    if ((statSync(files.key).mode & 0o077) !== 0) chmodSync(files.key, 0o600);
    const damaged = (what: string) =>
      new PaasmakerError('CONFIG_INVALID', `the local certificate authority in ${dir} cannot be used: ${what}`, {
        hint: `move the folder aside (mv ${dir} ${dir}.old) and start again: a new root is made, which browsers and curl must be given (or trust) anew`,
      });
    let root: X509Certificate;
    let key: ReturnType<typeof createPrivateKey>;
    try {
      root = new X509Certificate(rootPem);
      key = createPrivateKey(keyPem);
    } catch (error) {
      throw damaged(`root.pem or root-key.pem is not readable PEM (${(error as Error).message})`);
    }
    const spki = (value: ReturnType<typeof createPublicKey>) => value.export({ type: 'spki', format: 'der' });
    if (!spki(createPublicKey(key)).equals(spki(root.publicKey))) throw damaged('root-key.pem is not the key of root.pem');
    if (Date.parse(root.validTo) <= Date.now()) throw damaged(`its root expired on ${new Date(root.validTo).toISOString().slice(0, 10)}`);
    return new LocalCa(dir, root, rootPem, key.export({ type: 'pkcs8', format: 'pem' }) as string);
  }

  /** Makes a root (off this thread: see signOffThread); false when another platform made one first. */
  private static async create(dir: string): Promise<boolean> {
    const { certPem, keyPem } = await signOffThread({ kind: 'root', commonName: rootCommonName() });
    const files = rootFiles(dir);
    const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const newKey = join(dir, `.root-key.${tag}`);
    const newCert = join(dir, `.root.${tag}`);
    writeFileSync(newKey, keyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(newCert, certPem, { mode: 0o644, flag: 'wx' });
    try {
      // The key claims the place (a link fails if another platform's is there), then the certificate shows it is complete.
      linkSync(newKey, files.key);
    } catch (error) {
      rmSync(newCert, { force: true });
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return false;
    } finally {
      rmSync(newKey, { force: true });
    }
    renameSync(newCert, files.cert);
    return true;
  }

  /** Signs a certificate for one host name, valid from a minute ago for validityMs, with a key of its own (off this thread). */
  issue(name: string, validityMs: number): Promise<KeyAndCertificate> {
    return signOffThread({ kind: 'leaf', rootPem: this.rootPem, rootKeyPem: this.keyPem, name, validityMs });
  }

  /** Whether a certificate was signed by this root (one of an earlier root is not). */
  signed(certificate: X509Certificate): boolean {
    return certificate.checkIssued(this.root) && certificate.verify(this.root.publicKey);
  }
}

/** Waits until a file exists; false after timeoutMs. */
async function appears(path: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}
