import { DNS_ZONE } from './settings.js';

export interface ResolverSetup {
  /** What this is for, said to the user. */
  system: string;
  file: string;
  content: string;
  /** Run after writing the file, when the system needs it. */
  reload?: string[];
}

/**
 * How to send *.local.paasmaker (and only it) to Paasmaker's responder:
 * a systemd-resolved drop-in on Linux, /etc/resolver on macOS.
 */
export function resolverSetup(platform: NodeJS.Platform, port: number): ResolverSetup | undefined {
  if (platform === 'darwin') {
    return { system: 'macOS /etc/resolver', file: `/etc/resolver/${DNS_ZONE}`, content: `# Paasmaker: *.${DNS_ZONE} is this machine\nnameserver 127.0.0.1\nport ${port}\n` };
  }
  if (platform === 'linux') {
    return {
      system: 'systemd-resolved (a drop-in)',
      file: '/etc/systemd/resolved.conf.d/paasmaker.conf',
      content: `# Paasmaker: *.${DNS_ZONE} is this machine\n[Resolve]\nDNS=127.0.0.1:${port}\nDomains=~${DNS_ZONE}\n`,
      reload: ['systemctl', 'restart', 'systemd-resolved'],
    };
  }
  return undefined;
}
