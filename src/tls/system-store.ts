import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onPath } from './programs.js';

/** The systems whose trust store Paasmaker can change. */
export type SystemStoreId = 'fedora' | 'debian' | 'arch' | 'macos';

/** A command, as its argument vector (never through a shell). */
export type Command = readonly string[];

/**
 * The machine's own trust store, which curl, OpenSSL, Python and most
 * programs read: on Linux a folder of extra roots and the command that folds
 * them into the bundle; on macOS the System keychain.
 */
export interface SystemStore {
  id: SystemStoreId;
  /** "Debian/Ubuntu", "macOS". */
  system: string;
  /** Where a root is put: the file for this root (Linux), or the keychain (macOS). */
  location: (unique: string) => string;
  /** The commands that add the root (file rootFile) to the store, each needing root. */
  add: (rootFile: string, unique: string) => Command[];
  /** The commands that take it out again. certificateFile holds the root as it was added. */
  remove: (unique: string, certificateFile: string, sha1: string) => Command[];
  /** Whether the root is in the store, as the programs that read it see it. */
  trusts: (root: X509Certificate) => boolean;
}

interface LinuxStore {
  id: Exclude<SystemStoreId, 'macos'>;
  system: string;
  /** The folder of locally added roots. */
  anchors: string;
  extension: string;
  /** Folds the anchors into the bundles. */
  refresh: Command;
  /** The same once a root's file is gone: Debian's plain update leaves its links in /etc/ssl/certs behind, its --fresh one does not. */
  refreshAfterRemoval?: Command;
  /** The files clients read, in the order looked at: the first one present tells. */
  bundles: string[];
}

/** In the order looked for, as the folders tell the distributions apart (Fedora's first: some Debian-likes carry /usr/local/share/ca-certificates too). */
const LINUX_STORES: LinuxStore[] = [
  {
    id: 'fedora',
    system: 'Fedora/RHEL',
    anchors: '/etc/pki/ca-trust/source/anchors',
    extension: '.pem',
    refresh: ['update-ca-trust', 'extract'],
    bundles: ['/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', '/etc/pki/tls/certs/ca-bundle.crt'],
  },
  {
    id: 'debian',
    system: 'Debian/Ubuntu',
    anchors: '/usr/local/share/ca-certificates',
    extension: '.crt',
    refresh: ['update-ca-certificates'],
    refreshAfterRemoval: ['update-ca-certificates', '--fresh'],
    bundles: ['/etc/ssl/certs/ca-certificates.crt'],
  },
  {
    id: 'arch',
    system: 'Arch',
    anchors: '/etc/ca-certificates/trust-source/anchors',
    extension: '.crt',
    refresh: ['trust', 'extract-compat'],
    bundles: ['/etc/ca-certificates/extracted/tls-ca-bundle.pem', '/etc/ssl/certs/ca-certificates.crt'],
  },
];

const KEYCHAIN = '/Library/Keychains/System.keychain';

function linuxStore(store: LinuxStore): SystemStore {
  const file = (unique: string) => join(store.anchors, `${unique}${store.extension}`);
  return {
    id: store.id,
    system: store.system,
    location: file,
    add: (rootFile, unique) => [['install', '-m', '644', rootFile, file(unique)], store.refresh],
    remove: (unique) => [['rm', '-f', file(unique)], store.refreshAfterRemoval ?? store.refresh],
    trusts: (root) => {
      const bundle = store.bundles.find((candidate) => existsSync(candidate));
      return bundle !== undefined && bundleHolds(bundle, root);
    },
  };
}

/** macOS: the System keychain, with the root marked trusted for every user. Written after `security`'s manual; it cannot run on Linux. */
const MACOS_STORE: SystemStore = {
  id: 'macos',
  system: 'macOS',
  location: () => KEYCHAIN,
  add: (rootFile) => [['security', 'add-trusted-cert', '-d', '-r', 'trustRoot', '-k', KEYCHAIN, rootFile]],
  remove: (_unique, certificateFile, sha1) => [
    ['security', 'remove-trusted-cert', '-d', certificateFile],
    ['security', 'delete-certificate', '-Z', sha1, KEYCHAIN],
  ],
  trusts: (root) => {
    const file = root.toString();
    try {
      // verify-cert reads a certificate from a file only; the root's PEM goes through /dev/stdin.
      execFileSync('security', ['verify-cert', '-c', '/dev/stdin', '-p', 'ssl'], { input: file, stdio: ['pipe', 'ignore', 'ignore'], timeout: 10_000 });
      return true;
    } catch {
      return false;
    }
  },
};

/** This machine's system trust store, or undefined where Paasmaker does not know how to change it (or its tool is missing). */
export function systemStore(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): SystemStore | undefined {
  if (platform === 'darwin') return MACOS_STORE;
  if (platform !== 'linux') return undefined;
  const store = LINUX_STORES.find((candidate) => existsSync(candidate.anchors) && onPath(candidate.refresh[0]!, env));
  return store ? linuxStore(store) : undefined;
}

/** The system store of a given kind, as recorded when a root was added. */
export function systemStoreById(id: SystemStoreId): SystemStore {
  if (id === 'macos') return MACOS_STORE;
  return linuxStore(LINUX_STORES.find((store) => store.id === id)!);
}

/** Whether a PEM bundle holds this certificate, byte for byte. */
export function bundleHolds(bundle: string, certificate: X509Certificate): boolean {
  let text: string;
  try {
    text = readFileSync(bundle, 'utf8');
  } catch {
    return false;
  }
  const wanted = certificate.raw;
  for (const match of text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    if (Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64').equals(wanted)) return true;
  }
  return false;
}
