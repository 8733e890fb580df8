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

/** Environment variables that hold secrets, for masking. */
export function isSecret(key: string, value: string): boolean {
  return /PASSWORD$|SECRET|TOKEN|_KEY$/.test(key) || /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i.test(value) || (key === 'PM_SERVICES' && value.includes('"password"'));
}

/** A value with its secrets replaced by asterisks. */
export function maskSecret(key: string, value: string): string {
  if (key === 'PM_SERVICES') return value.replace(/"password":"[^"]*"/g, '"password":"********"').replace(/(:\/\/[^/@"\s:]*:)[^/@"\s]+@/g, '$1********@');
  if (/PASSWORD$|SECRET|TOKEN|_KEY$/.test(key)) return '********';
  return value.replace(/(:\/\/[^/@\s:]*:)[^/@\s]+@/g, '$1********@');
}
