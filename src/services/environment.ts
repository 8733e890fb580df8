import { hostname } from 'node:os';
import type { Credentials, ServiceKind } from './types.js';

/** A service as provisioned for one app, ready to become environment variables. */
export interface ProvisionedService {
  name: string;
  symbolic: string;
  plugin: string;
  kind: ServiceKind;
  /** The plugin's own variable for the first service of its kind (MEMCACHED_URL). */
  urlVariable?: string;
  branch: string;
  credentials: Credentials;
}

/** db → DB, cache-main → CACHE_MAIN. */
export const envName = (service: string) => service.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/**
 * What an app's processes are told about their services: <NAME>_URL and the
 * discrete <NAME>_HOST/_PORT/_USER/_PASSWORD/_DATABASE (or _PATH), DATABASE_URL
 * for the first SQL service, REDIS_URL for the first Redis (and a plugin's own,
 * MEMCACHED_URL, for the first of its services), SMTP_HOST/_PORT/_USER/_PASSWORD
 * for the first mail service (the names mail libraries read), and the original
 * Paasmaker's PM_SERVICES and PM_METADATA.
 */
export function serviceEnvironment(app: string, services: ProvisionedService[], workspace = 'default'): Record<string, string> {
  const env: Record<string, string> = {};
  const pmServices: Record<string, unknown> = {};
  for (const service of services) {
    const name = envName(service.name);
    const c = service.credentials;
    if (c.url) env[`${name}_URL`] = c.url;
    if (c.hostname !== undefined) env[`${name}_HOST`] = c.hostname;
    if (c.port !== undefined) env[`${name}_PORT`] = String(c.port);
    if (c.username !== undefined) env[`${name}_USER`] = c.username;
    if (c.password !== undefined) env[`${name}_PASSWORD`] = c.password;
    if (c.database !== undefined) env[`${name}_DATABASE`] = c.database;
    if (c.path !== undefined) env[`${name}_PATH`] = c.path;
    for (const [key, value] of Object.entries(c.values ?? {})) env[`${name}_${envName(key)}`] = value;
    if (service.kind === 'sql' && c.url && env.DATABASE_URL === undefined) env.DATABASE_URL = c.url;
    if (service.kind === 'redis' && c.url && env.REDIS_URL === undefined) env.REDIS_URL = c.url;
    if (service.urlVariable && c.url && env[service.urlVariable] === undefined) env[service.urlVariable] = c.url;
    if (service.kind === 'mail' && env.SMTP_HOST === undefined) Object.assign(env, smtpVariables(c));
    pmServices[service.name] =
      c.protocol === 'parameters'
        ? { ...c.values }
        : Object.fromEntries(
            Object.entries({ protocol: c.protocol, hostname: c.hostname, port: c.port, username: c.username, password: c.password, database: c.database, path: c.path, url: c.url }).filter(
              ([, value]) => value !== undefined,
            ),
          );
  }
  env.PM_SERVICES = JSON.stringify(pmServices);
  env.PM_METADATA = JSON.stringify({
    application: { name: app, version: 1, workspace, workspace_stub: workspace },
    node: { name: hostname(), tags: {} },
    workspace: { name: workspace, stub: workspace, tags: {} },
  });
  return env;
}

/** SMTP_HOST, SMTP_PORT and, when the catcher wants AUTH, SMTP_USER and SMTP_PASSWORD. */
function smtpVariables(c: Credentials): Record<string, string> {
  const env: Record<string, string> = {};
  if (c.hostname !== undefined) env.SMTP_HOST = c.hostname;
  if (c.port !== undefined) env.SMTP_PORT = String(c.port);
  if (c.username !== undefined) env.SMTP_USER = c.username;
  if (c.password !== undefined) env.SMTP_PASSWORD = c.password;
  return env;
}

const MASK = '********';

/** A name that says its value is secret, in any case: DB_PASS, MYSQL_PWD, api_key, webhook_secret, token, AWS_ACCESS_KEY_ID, private_key, credentials. */
const SECRET_NAME = /PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE/i;
/** A password in a URL: scheme://user:password@. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^/@\s:"]*:)[^/@\s"]+@/gi;
/** A secret as a parameter of a URL or a connection string: ?password=, &token=, ;pwd= (JDBC, ODBC). */
const PARAM_SECRET = /((?:^|[?&;\s])[a-z0-9_.-]*(?:pass|pwd|secret|token|key|credential|private)[a-z0-9_.-]*=)[^&;\s"]+/gi;

/** Whether a value holds a secret where it stands: a password in a URL or a connection string's parameter. */
const holdsSecret = (value: string): boolean => {
  URL_PASSWORD.lastIndex = 0;
  PARAM_SECRET.lastIndex = 0;
  return URL_PASSWORD.test(value) || PARAM_SECRET.test(value);
};

/** A text with the passwords in its URLs and the secret parameters of its connection strings masked. */
const maskInText = (value: string): string => value.replace(URL_PASSWORD, `$1${MASK}@`).replace(PARAM_SECRET, `$1${MASK}`);

/** Environment variables that hold secrets, for masking. */
export function isSecret(key: string, value: string): boolean {
  if (key === 'PM_SERVICES') return maskSecret(key, value) !== value;
  return SECRET_NAME.test(key) || holdsSecret(value);
}

/**
 * A value with its secrets replaced by asterisks: every one whose name says
 * it is secret, whatever its case (anywhere in a JSON object: PM_SERVICES
 * and a parameters service's api_key, webhook_secret, token), passwords in
 * URLs, secret parameters of connection strings.
 */
export function maskSecret(key: string, value: string): string {
  if (key !== 'PM_SERVICES' && SECRET_NAME.test(key)) return MASK;
  if (/^\s*[{[]/.test(value)) {
    try {
      return JSON.stringify(maskValue(JSON.parse(value) as unknown));
    } catch {
      // not JSON: masked as text
    }
  }
  return maskInText(value);
}

/** A value from a manifest or PM_SERVICES, its secrets masked wherever they are: by name at every depth, in text by what they look like. */
export function maskValue(value: unknown, key?: string): unknown {
  if (key !== undefined && SECRET_NAME.test(key) && value !== null && value !== undefined && value !== '' && typeof value !== 'boolean') return MASK;
  if (typeof value === 'string') return maskInText(value);
  if (Array.isArray(value)) return value.map((each) => maskValue(each));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([name, each]) => [name, maskValue(each, name)]));
  return value;
}
