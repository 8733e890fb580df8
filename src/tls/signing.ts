import { randomBytes } from 'node:crypto';
import { LOCAL_ADDRESSES, LOCAL_ZONES } from './zones.js';
import { loadX509 } from './x509.js';

/**
 * The X.509 work of the local CA: making its root and signing a certificate
 * for one name. Pure (PEM in, PEM out), so that it runs in the signing
 * thread (signer.ts): loading the X.509 library takes a few hundred
 * milliseconds of one thread on a busy machine, which the router's must not
 * give.
 */

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

/** What the signing thread is asked: a new root named so, or a certificate for one name signed by a root. */
export type SigningAsk = { kind: 'root'; commonName: string } | { kind: 'leaf'; rootPem: string; rootKeyPem: string; name: string; validityMs: number };

export function sign(ask: SigningAsk): Promise<KeyAndCertificate> {
  return ask.kind === 'root' ? makeRoot(ask.commonName) : signLeaf(ask);
}

/** An ECDSA P-256 root named "Paasmaker local CA (user@host)", constrained to the local zones and loopback addresses. */
async function makeRoot(commonName: string): Promise<KeyAndCertificate> {
  const { x509, asn1, schema } = await loadX509();
  const keys = (await globalThis.crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const constraints = new asn1.NameConstraints({
    permittedSubtrees: new asn1.GeneralSubtrees([
      ...LOCAL_ZONES.map((zone) => new asn1.GeneralSubtree({ base: new asn1.GeneralName({ dNSName: zone }) })),
      ...LOCAL_ADDRESSES.map((cidr) => new asn1.GeneralSubtree({ base: new asn1.GeneralName({ iPAddress: cidr }) })),
    ]),
  });
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ O: ['Paasmaker local CA'] }, { OU: [commonName.slice(commonName.indexOf('(') + 1, -1)] }, { CN: [commonName] }],
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
  return { certPem: certificate.toString('pem') + '\n', keyPem: pem('PRIVATE KEY', await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

/** A certificate for one host name, valid from a minute ago for validityMs, with a key of its own. */
async function signLeaf(ask: { rootPem: string; rootKeyPem: string; name: string; validityMs: number }): Promise<KeyAndCertificate> {
  const { x509 } = await loadX509();
  const signingKey = await rootKey(ask.rootKeyPem);
  const keys = (await globalThis.crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const issuer = new x509.X509Certificate(ask.rootPem);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [ask.name] }],
    // The root's own encoding of its name, so that every verifier finds the issuer.
    issuer: issuer.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + ask.validityMs),
    signingAlgorithm: SIGNING,
    publicKey: keys.publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: ask.name }]),
      await x509.AuthorityKeyIdentifierExtension.create(issuer),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: certificate.toString('pem') + '\n', keyPem: pem('PRIVATE KEY', await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

/** The root's key as WebCrypto holds it, imported once per root (a thread signs for one root). */
let imported: { pem: string; key: Promise<CryptoKey> } | undefined;
function rootKey(keyPem: string): Promise<CryptoKey> {
  if (imported?.pem !== keyPem) imported = { pem: keyPem, key: globalThis.crypto.subtle.importKey('pkcs8', fromPem(keyPem), EC, false, ['sign']) };
  return imported.key;
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

function fromPem(text: string): ArrayBuffer {
  const der = Buffer.from(text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}
