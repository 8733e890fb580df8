import { Resolver } from 'node:dns/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { DnsResponder } from '../../src/proxy/index.js';
import { resolverSetup } from '../../src/shared/dns-setup.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function responder(): Promise<Resolver> {
  const dns = new DnsResponder({ port: 0 });
  await dns.listen();
  cleanups.push(() => dns.close());
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${dns.port}`]);
  return resolver;
}

describe('DNS responder for *.local.paasmaker', () => {
  it('answers A and AAAA with this machine for every name in the zone', async () => {
    const resolver = await responder();
    expect(await resolver.resolve4('shop.local.paasmaker')).toEqual(['127.0.0.1']);
    expect(await resolver.resolve4('api.shop.LOCAL.paasmaker')).toEqual(['127.0.0.1']);
    expect(await resolver.resolve6('shop.local.paasmaker')).toEqual(['::1']);
  });

  it('refuses names outside the zone, never forwarding them', async () => {
    const resolver = await responder();
    await expect(resolver.resolve4('example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
    await expect(resolver.resolve4('local.paasmaker.evil.com')).rejects.toMatchObject({ code: 'EREFUSED' });
  });
});

describe('dns setup', () => {
  it('sends only the zone to the responder: systemd-resolved on Linux, /etc/resolver on macOS', () => {
    const linux = resolverSetup('linux', 7653)!;
    expect(linux.file).toBe('/etc/systemd/resolved.conf.d/paasmaker.conf');
    expect(linux.content).toContain('DNS=127.0.0.1:7653\nDomains=~local.paasmaker\n');
    expect(linux.reload).toEqual(['systemctl', 'restart', 'systemd-resolved']);
    const mac = resolverSetup('darwin', 7653)!;
    expect(mac.file).toBe('/etc/resolver/local.paasmaker');
    expect(mac.content).toContain('nameserver 127.0.0.1\nport 7653\n');
    expect(resolverSetup('win32', 7653)).toBeUndefined();
  });
});
