/**
 * The X.509 library, loaded on first use only: it costs tens of milliseconds
 * to load (more on a busy machine), and a platform that only serves
 * certificates it already issued (read back with Node's own X509Certificate)
 * never needs it.
 */
export type X509 = typeof import('@peculiar/x509');
export type Asn1X509 = typeof import('@peculiar/asn1-x509');
export type Asn1Schema = typeof import('@peculiar/asn1-schema');

export interface X509Library {
  x509: X509;
  asn1: Asn1X509;
  schema: Asn1Schema;
}

let loading: Promise<X509Library> | undefined;

export function loadX509(): Promise<X509Library> {
  loading ??= (async () => {
    // @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API first.
    await import('reflect-metadata');
    const [x509, asn1, schema] = await Promise.all([import('@peculiar/x509'), import('@peculiar/asn1-x509'), import('@peculiar/asn1-schema')]);
    // Node's own WebCrypto (Node 20 has it as globalThis.crypto) signs and makes keys.
    x509.cryptoProvider.set(globalThis.crypto);
    return { x509, asn1, schema };
  })();
  return loading;
}
