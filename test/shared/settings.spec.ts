import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PaasmakerError } from '../../src/shared/errors.js';
import { resolveSettings, type SettingFlags } from '../../src/shared/settings.js';

const home = { PAASMAKER_HOME: '/tmp/pm-settings-home' };

function refusal(flags: SettingFlags, env: NodeJS.ProcessEnv = home, flagNames?: { dnsPort?: string }): PaasmakerError {
  try {
    resolveSettings({ flags, env: { ...home, ...env }, flagNames });
  } catch (error) {
    expect(error).toBeInstanceOf(PaasmakerError);
    return error as PaasmakerError;
  }
  throw new Error('the settings were accepted');
}

describe('settings: flag, else environment, else default', () => {
  it('takes the defaults when nothing is set: router 7654, DNS 7653, no API port, no connection cap', () => {
    const settings = resolveSettings({ env: home });
    expect(settings).toMatchObject({ home: '/tmp/pm-settings-home', proxyPort: 7654, dnsPort: 7653, tlsPort: 7655, apiPort: undefined, maxConnections: undefined });
    expect(settings.source).toEqual({ proxyPort: 'default', dnsPort: 'default', tlsPort: 'default', apiPort: 'default', maxConnections: 'default', requestLog: 'default' });
  });

  it('the TLS port: PAASMAKER_TLS_PORT, --tls-port, and --no-tls, which wins over both', () => {
    expect(resolveSettings({ env: { ...home, PAASMAKER_TLS_PORT: '8443' } })).toMatchObject({ tlsPort: 8443, source: { tlsPort: 'environment' } });
    expect(resolveSettings({ env: { ...home, PAASMAKER_TLS_PORT: '8443' }, flags: { tlsPort: '0' } })).toMatchObject({ tlsPort: 0, source: { tlsPort: 'flag' } });
    const off = resolveSettings({ env: { ...home, PAASMAKER_TLS_PORT: 'abc' }, flags: { tls: false } });
    expect(off.tlsPort).toBeUndefined();
    expect(off.source.tlsPort).toBe('flag');
  });

  it('the router and its TLS listener cannot share a port (0 for both is two free ports)', () => {
    const error = refusal({ proxyPort: '8443', tlsPort: '8443' });
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain("the router's port and its TLS port are both 8443");
    expect(error.hint).toContain('--no-tls');
    expect(refusal({}, { PAASMAKER_PROXY_PORT: '7655' }).code).toBe('CONFIG_INVALID');
    expect(resolveSettings({ env: home, flags: { proxyPort: '0', tlsPort: '0' } })).toMatchObject({ proxyPort: 0, tlsPort: 0 });
  });

  it('the environment beats the default, and a flag beats the environment', () => {
    const env = { ...home, PAASMAKER_PROXY_PORT: '8080', PAASMAKER_DNS_PORT: '0', PAASMAKER_MAX_CONNECTIONS: '300' };
    expect(resolveSettings({ env })).toMatchObject({ proxyPort: 8080, dnsPort: 0, maxConnections: 300, source: { proxyPort: 'environment', dnsPort: 'environment' } });
    const flagged = resolveSettings({ env, flags: { proxyPort: '9090', dnsPort: '5300', apiPort: '0' } });
    expect(flagged).toMatchObject({ proxyPort: 9090, dnsPort: 5300, apiPort: 0, source: { proxyPort: 'flag', dnsPort: 'flag', apiPort: 'flag' } });
  });

  it('a good flag wins over a bad environment variable: only the value used is checked', () => {
    expect(resolveSettings({ env: { ...home, PAASMAKER_PROXY_PORT: 'abc' }, flags: { proxyPort: '0' } }).proxyPort).toBe(0);
  });

  it('home is PAASMAKER_HOME made absolute, else under XDG_STATE_HOME', () => {
    expect(resolveSettings({ env: { PAASMAKER_HOME: 'relative/home' } }).home).toBe(join(process.cwd(), 'relative/home'));
    expect(resolveSettings({ env: { XDG_STATE_HOME: '/tmp/pm-xdg' } }).home).toBe('/tmp/pm-xdg/paasmaker');
  });
});

describe('a bad setting is refused, naming where it came from', () => {
  for (const bad of ['abc', '-1', '70000', '1.5', '', ' 80', '0x50', '1e3']) {
    it(`--proxy-port ${JSON.stringify(bad)} is a usage error (exit 2) that names the flag and the value`, () => {
      const error = refusal({ proxyPort: bad });
      expect(error.code).toBe('USAGE');
      expect(error.message).toMatch(/^--proxy-port .+: the router's port must be a whole number from 0 to 65535/);
      expect(error.message).toContain(/^[\w.-]+$/.test(bad) ? `--proxy-port ${bad}:` : `--proxy-port ${JSON.stringify(bad)}:`);
      expect(error.hint).toContain('--proxy-port 8080');
    });

    it(`PAASMAKER_DNS_PORT=${JSON.stringify(bad)} is a user error (exit 1) that names the variable as the environment's`, () => {
      const error = refusal({}, { PAASMAKER_DNS_PORT: bad });
      expect(error.code).not.toBe('USAGE');
      expect(error.message).toMatch(/^PAASMAKER_DNS_PORT=.+ \(environment\): the DNS responder's port must be a whole number from 0 to 65535/);
      expect(error.hint).toMatch(/unset PAASMAKER_DNS_PORT/);
    });
  }

  it('--api-port and the environment\'s router port are checked the same way', () => {
    expect(refusal({ apiPort: '65536' }).message).toMatch(/^--api-port 65536: the API's port/);
    expect(refusal({}, { PAASMAKER_PROXY_PORT: 'http' }).message).toMatch(/^PAASMAKER_PROXY_PORT=http \(environment\): the router's port/);
  });

  it('a command that spells the flag differently is named as typed', () => {
    expect(refusal({ dnsPort: 'x' }, {}, { dnsPort: '--port' }).message).toMatch(/^--port x: the DNS responder's port/);
  });

  it('PAASMAKER_MAX_CONNECTIONS must be a whole number of 1 or more', () => {
    for (const bad of ['lots', '0', '-5', '2.5', '']) {
      expect(refusal({}, { PAASMAKER_MAX_CONNECTIONS: bad }).message).toMatch(/^PAASMAKER_MAX_CONNECTIONS=\S+ \(environment\): the router's cap on open client connections must be a whole number/);
    }
  });

  it('PAASMAKER_REQUEST_LOG is how many requests the request inspector keeps per app: 0 turns it off, at most 10000', () => {
    expect(resolveSettings({ env: { ...home, PAASMAKER_REQUEST_LOG: '0' } })).toMatchObject({ requestLog: 0, source: { requestLog: 'environment' } });
    expect(resolveSettings({ env: { ...home, PAASMAKER_REQUEST_LOG: '1000' } }).requestLog).toBe(1000);
    for (const bad of ['all', '-1', '10001', '2.5', '']) {
      const error = refusal({}, { PAASMAKER_REQUEST_LOG: bad });
      expect(error.message).toMatch(/^PAASMAKER_REQUEST_LOG=\S+ \(environment\): the requests the request inspector keeps per app must be a whole number from 0 \(off\) to 10000/);
      expect(error.hint).toContain('the default, 300');
    }
  });

  it('a PAASMAKER_HOME that is a file is refused before anything is written', () => {
    const folder = mkdtempSync(join(tmpdir(), 'pm-settings-'));
    try {
      const file = join(folder, 'home');
      writeFileSync(file, '');
      const error = refusal({}, { PAASMAKER_HOME: file });
      expect(error.message).toBe(`PAASMAKER_HOME=${file} (environment): ${file} is a file, where Paasmaker keeps a folder of state, logs and data`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
