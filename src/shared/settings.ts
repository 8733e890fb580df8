import { statSync } from 'node:fs';
import { PaasmakerError } from './errors.js';
import { paasmakerHome } from './paths.js';

export const DEFAULT_PROXY_PORT = 7654;
export const DEFAULT_DNS_PORT = 7653;
export const DEFAULT_TLS_PORT = 7655;
/** The zone the DNS responder answers for (every name in it is this machine). */
export const DNS_ZONE = 'local.paasmaker';

/** Where a setting's value came from: a value the user chose must be honoured, a default may yield. */
export type SettingSource = 'flag' | 'environment' | 'default';

/** The platform's settings, resolved once (flag, else environment, else default) and valid. */
export interface Settings {
  /** PAASMAKER_HOME, absolute. */
  home: string;
  /** The router's port; 0 picks a free one. */
  proxyPort: number;
  /** The *.local.paasmaker DNS responder's port; 0 picks a free one. */
  dnsPort: number;
  /** The router's https port; 0 picks a free one; undefined: no TLS (--no-tls). */
  tlsPort?: number;
  /** The API's TCP port on 127.0.0.1, only when asked for; 0 picks a free one. */
  apiPort?: number;
  /** The router's cap on open client connections, when the user set one. */
  maxConnections?: number;
  /** Requests the router's request inspector keeps per app (0: off), when the user set it. */
  requestLog?: number;
  source: { proxyPort: SettingSource; dnsPort: SettingSource; tlsPort: SettingSource; apiPort: SettingSource; maxConnections: SettingSource; requestLog: SettingSource };
}

/** The command-line options a command was given, as commander hands them over (text). */
export interface SettingFlags {
  proxyPort?: string;
  dnsPort?: string;
  apiPort?: string;
  tlsPort?: string;
  /** false: --no-tls. */
  tls?: boolean;
}

type FlagSetting = 'proxyPort' | 'dnsPort' | 'apiPort' | 'tlsPort';

/** How each setting is spelled on the command line and in the environment, and what it is. */
const SPELLING: Record<FlagSetting | 'maxConnections' | 'requestLog', { flag?: string; env?: string; what: string; example: string }> = {
  proxyPort: { flag: '--proxy-port', env: 'PAASMAKER_PROXY_PORT', what: "the router's port", example: '8080' },
  dnsPort: { flag: '--dns-port', env: 'PAASMAKER_DNS_PORT', what: "the DNS responder's port", example: '5300' },
  tlsPort: { flag: '--tls-port', env: 'PAASMAKER_TLS_PORT', what: "the router's TLS (https) port", example: '8443' },
  apiPort: { flag: '--api-port', what: "the API's port", example: '7656' },
  maxConnections: { env: 'PAASMAKER_MAX_CONNECTIONS', what: "the router's cap on open client connections", example: '2000' },
  requestLog: { env: 'PAASMAKER_REQUEST_LOG', what: 'the requests the request inspector keeps per app', example: '1000' },
};

const DEFAULTS = { proxyPort: DEFAULT_PROXY_PORT, dnsPort: DEFAULT_DNS_PORT, tlsPort: DEFAULT_TLS_PORT } as const;

/**
 * Resolves and checks every setting a command needs, so a bad value is
 * refused before anything starts, with where it came from ("--proxy-port abc"
 * or "PAASMAKER_PROXY_PORT=abc (environment)"), what is allowed, and a hint.
 * A bad flag is a usage error (exit 2); a bad environment variable exit 1.
 * `flagNames` names a flag a command spells differently (`dns setup --port`).
 */
export function resolveSettings(options: { flags?: SettingFlags; env?: NodeJS.ProcessEnv; flagNames?: Partial<Record<FlagSetting, string>> } = {}): Settings {
  const flags = options.flags ?? {};
  const env = options.env ?? process.env;
  const flagName = (setting: FlagSetting) => options.flagNames?.[setting] ?? SPELLING[setting].flag!;

  const port = (setting: FlagSetting): { value?: number; source: SettingSource } => {
    const flag = flags[setting];
    if (flag !== undefined) return { value: parsePort(flag, { kind: 'flag', name: flagName(setting) }, setting), source: 'flag' };
    const variable = SPELLING[setting].env;
    const text = variable === undefined ? undefined : env[variable];
    if (variable !== undefined && text !== undefined) return { value: parsePort(text, { kind: 'environment', name: variable }, setting), source: 'environment' };
    return { source: 'default' };
  };

  const proxy = port('proxyPort');
  const dns = port('dnsPort');
  const api = port('apiPort');
  // --no-tls wins over a port from the environment: the command line is the latest word.
  const tls = flags.tls === false ? { value: undefined, source: 'flag' as const, off: true } : { ...port('tlsPort'), off: false };
  const tlsPort = tls.off ? undefined : (tls.value ?? DEFAULTS.tlsPort);
  const proxyPort = proxy.value ?? DEFAULTS.proxyPort;
  if (tlsPort !== undefined && tlsPort !== 0 && tlsPort === proxyPort) {
    const both = `the router's port and its TLS port are both ${tlsPort}`;
    const where = [proxy.source, tls.source].includes('flag') ? 'USAGE' : 'CONFIG_INVALID';
    throw new PaasmakerError(where, `${both}: plain HTTP and https each need a port of their own`, {
      hint: `choose another TLS port with --tls-port N (or PAASMAKER_TLS_PORT; the default is ${DEFAULTS.tlsPort}), or run without https: --no-tls`,
    });
  }
  const connections = maxConnectionsSetting(env);
  const requestLog = requestLogSetting(env);
  return {
    home: homeSetting(env),
    proxyPort,
    dnsPort: dns.value ?? DEFAULTS.dnsPort,
    tlsPort,
    apiPort: api.value,
    maxConnections: connections,
    requestLog,
    source: {
      proxyPort: proxy.source,
      dnsPort: dns.source,
      tlsPort: tls.source,
      apiPort: api.source,
      maxConnections: connections === undefined ? 'default' : 'environment',
      requestLog: requestLog === undefined ? 'default' : 'environment',
    },
  };
}

/**
 * The router's options from the settings: its port, its cap and inspector,
 * and https on the TLS port unless --no-tls. The default TLS port yields (no
 * https this run, a warning) when something else holds it; a port the user
 * chose must be free.
 */
export function proxyOptions(settings: Settings): { port: number; maxConnections?: number; requestLog?: number; tls?: { port: number; optional: boolean } } {
  return {
    port: settings.proxyPort,
    maxConnections: settings.maxConnections,
    requestLog: settings.requestLog,
    tls: settings.tlsPort === undefined ? undefined : { port: settings.tlsPort, optional: settings.source.tlsPort === 'default' },
  };
}

/** "--proxy-port abc" or "PAASMAKER_PROXY_PORT=abc (environment)": where a setting's value came from, as the user wrote it. */
function settingOrigin(origin: Origin, text: string): string {
  return origin.kind === 'flag' ? `${origin.name} ${shown(text)}` : `${origin.name}=${shown(text)} (environment)`;
}

/** Where a resolved setting came from, for a message that refuses its value. */
export function originOf(settings: Settings, setting: FlagSetting, options: { flagName?: string } = {}): string {
  const value = String(settings[setting] ?? '');
  const source = settings.source[setting];
  if (source === 'flag') return settingOrigin({ kind: 'flag', name: options.flagName ?? SPELLING[setting].flag! }, value);
  if (source === 'environment') return settingOrigin({ kind: 'environment', name: SPELLING[setting].env! }, value);
  return `the default ${SPELLING[setting].what} (${value})`;
}

interface Origin {
  kind: 'flag' | 'environment';
  name: string;
}

function parsePort(text: string, origin: Origin, setting: FlagSetting): number {
  const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (Number.isInteger(value) && value <= 65535) return value;
  throw refused(origin, text, `${SPELLING[setting].what} must be a whole number from 0 to 65535 (0 picks a free one)`, setting);
}

function maxConnectionsSetting(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.PAASMAKER_MAX_CONNECTIONS;
  if (text === undefined) return undefined;
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (value >= 1) return value;
  throw refused({ kind: 'environment', name: 'PAASMAKER_MAX_CONNECTIONS' }, text, `${SPELLING.maxConnections.what} must be a whole number of connections, 1 or more`, 'maxConnections');
}

/** The requests kept per app: 0 turns the request inspector off; a bound keeps the router's memory small. */
function requestLogSetting(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.PAASMAKER_REQUEST_LOG;
  if (text === undefined) return undefined;
  const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  // Up to 4 KB each: 10,000 requests are up to 40 MB an app.
  if (value <= 10_000) return value;
  throw refused({ kind: 'environment', name: 'PAASMAKER_REQUEST_LOG' }, text, `${SPELLING.requestLog.what} must be a whole number from 0 (off) to 10000`, 'requestLog');
}

function homeSetting(env: NodeJS.ProcessEnv): string {
  const home = paasmakerHome(env);
  let folder = true;
  try {
    folder = statSync(home).isDirectory();
  } catch {
    // not there yet: the platform makes it
  }
  if (!folder) {
    const origin = env.PAASMAKER_HOME ? `PAASMAKER_HOME=${shown(env.PAASMAKER_HOME)} (environment)` : `the default PAASMAKER_HOME ${home}`;
    throw new PaasmakerError('CONFIG_INVALID', `${origin}: ${home} is a file, where Paasmaker keeps a folder of state, logs and data`, {
      hint: 'set PAASMAKER_HOME to a folder you own (it is made when missing)',
    });
  }
  return home;
}

function refused(origin: Origin, text: string, rule: string, setting: FlagSetting | 'maxConnections' | 'requestLog'): PaasmakerError {
  const spelling = SPELLING[setting];
  const fallback =
    setting === 'maxConnections'
      ? 'the cap derived from the open-files limit (ulimit -n)'
      : setting === 'requestLog'
        ? 'the default, 300'
        : setting === 'apiPort'
          ? 'no TCP port (the Unix socket only)'
          : `the default, ${DEFAULTS[setting]}`;
  if (origin.kind === 'flag') {
    return new PaasmakerError('USAGE', `${settingOrigin(origin, text)}: ${rule}`, { hint: `for example: ${origin.name} ${spelling.example}; leave it out for ${fallback}` });
  }
  return new PaasmakerError('CONFIG_INVALID', `${settingOrigin(origin, text)}: ${rule}`, {
    hint: `set it to a valid value, such as ${origin.name}=${spelling.example}, or unset it (unset ${origin.name}) for ${fallback}`,
  });
}

/** A value as typed, quoted when it is empty or holds spaces or quotes. */
function shown(text: string): string {
  return /^[\w.,:/+@%-]+$/.test(text) ? text : JSON.stringify(text);
}
