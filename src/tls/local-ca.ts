import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import { LOCAL_ADDRESSES, LOCAL_ZONES } from './zones.js';
import { loadX509 } from './x509.js';

/** The root lives ten years: trusting it again is a step the user takes by hand. */
const ROOT_VALIDITY_MS = 10 * 365 * 86_400_000;
/** Certificates start a minute back, for a clock a little behind. */
const BACKDATE_MS = 60_000;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A certificate and its private key, both PEM. */
export interface KeyAndCertificate {
  certPem: string;
  keyPem: string;
}

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
    private readonly signingKey: CryptoKey,
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
    const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
    const signingKey = await globalThis.crypto.subtle.importKey('pkcs8', pkcs8, EC, false, ['sign']);
    return new LocalCa(dir, root, rootPem, signingKey);
  }

  /** Makes a root; false when another platform made one first. */
  private static async create(dir: string): Promise<boolean> {
    const { x509, asn1, schema } = await loadX509();
    const keys = (await globalThis.crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
    const name = rootCommonName();
    const constraints = new asn1.NameConstraints({
      permittedSubtrees: new asn1.GeneralSubtrees([
        ...LOCAL_ZONES.map((zone) => new asn1.GeneralSubtree({ base: new asn1.GeneralName({ dNSName: zone }) })),
        ...LOCAL_ADDRESSES.map((cidr) => new asn1.GeneralSubtree({ base: new asn1.GeneralName({ iPAddress: cidr }) })),
      ]),
    });
    const now = Date.now();
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serialNumber(),
      name: [{ O: ['Paasmaker local CA'] }, { OU: [name.slice(name.indexOf('(') + 1, -1)] }, { CN: [name] }],
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + ROOT_VALIDITY_MS),
      signingAlgorithm: SIGNING,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        // Critical, as RFC 5280 asks: a verifier that cannot read it must refuse the root.
        new x509.Extension(asn1.id_ce_nameConstraints, true, schema.AsnConvert.serialize(constraints)),
      ],
    });
    const keyPem = pem('PRIVATE KEY', await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey));
    const files = rootFiles(dir);
    const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const newKey = join(dir, `.root-key.${tag}`);
    const newCert = join(dir, `.root.${tag}`);
    writeFileSync(newKey, keyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(newCert, certificate.toString('pem') + '\n', { mode: 0o644, flag: 'wx' });
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

  /** Signs a certificate for one host name, valid from a minute ago for validityMs, with a key of its own. */
  async issue(name: string, validityMs: number): Promise<KeyAndCertificate> {
    const { x509 } = await loadX509();
    const keys = (await globalThis.crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
    const issuer = new x509.X509Certificate(this.rootPem);
    const now = Date.now();
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: [{ CN: [name] }],
      // The root's own encoding of its name, so that every verifier finds the issuer.
      issuer: issuer.subjectName,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + validityMs),
      signingAlgorithm: SIGNING,
      publicKey: keys.publicKey,
      signingKey: this.signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }]),
        await x509.AuthorityKeyIdentifierExtension.create(issuer),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return { certPem: certificate.toString('pem') + '\n', keyPem: pem('PRIVATE KEY', await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey)) };
  }

  /** Whether a certificate was signed by this root (one of an earlier root is not). */
  signed(certificate: X509Certificate): boolean {
    return certificate.checkIssued(this.root) && certificate.verify(this.root.publicKey);
  }
}

/** 16 random bytes, positive and without a leading zero byte. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function pem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
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
