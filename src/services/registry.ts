import { filesystemPlugin, parametersPlugin, sqlitePlugin } from './plugins/local.js';
import { MAIL_OPTIONS, mailPlugin } from './plugins/mail.js';
import { externalMysql, managedMysql } from './plugins/mysql.js';
import { externalPostgres, managedPostgres } from './plugins/postgres.js';
import { externalRedis, managedRedis } from './plugins/redis.js';
import { registry } from '../shared/plugin-registry.js';
import type { z } from 'zod';
import type { ServiceContext, ServicePlugin } from './types.js';

/** Makes a platform's instance of a service plugin (managed plugins hold their server in it). */
export type ServiceFactory = (context: ServiceContext) => ServicePlugin;

// The built-in service plugins, registered the way a plugin package's are.
// Each platform makes its own instance of each (managed plugins hold their server).
const BUILT_IN: Record<string, ServiceFactory> = {
  sqlite: sqlitePlugin,
  postgres: managedPostgres,
  mysql: managedMysql,
  redis: managedRedis,
  'postgres-external': externalPostgres,
  'mysql-external': externalMysql,
  'redis-external': externalRedis,
  filesystem: filesystemPlugin,
  parameters: parametersPlugin,
  mail: mailPlugin,
};
/** The options a built-in checks with a schema (a manifest's mistake is reported at its line). */
const BUILT_IN_OPTIONS: Record<string, z.ZodObject> = { mail: MAIL_OPTIONS };
for (const [name, factory] of Object.entries(BUILT_IN)) registry.addService(name, factory, 'built-in', { options: BUILT_IN_OPTIONS[name] });

/** Every service plugin's factory, by name: the built-ins and those config.yml's plugins added (live). */
// Registered as ServiceFactory (the built-ins above, and plugins' after their shape is checked at load).
export const PLUGINS = registry.serviceFactories as Record<string, ServiceFactory>;

/** Every service plugin's name (live). */
export const PLUGIN_NAMES: readonly string[] = registry.serviceNames;

/**
 * Symbolic names that work with no config.yml: each is the plugin of the same
 * name, plus the names the original Paasmaker's manifests used.
 */
export const DEFAULT_SYMBOLS: Record<string, string> = {
  sqlite: 'sqlite',
  postgres: 'postgres',
  postgresql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  redis: 'redis',
  filesystem: 'filesystem',
  parameters: 'parameters',
  mail: 'mail',
};
