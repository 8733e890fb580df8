import { filesystemPlugin, parametersPlugin, sqlitePlugin } from './plugins/local.js';
import { externalMysql, managedMysql } from './plugins/mysql.js';
import { externalPostgres, managedPostgres } from './plugins/postgres.js';
import { externalRedis, managedRedis } from './plugins/redis.js';
import type { ServiceContext, ServicePlugin } from './types.js';

/** Every plugin, by name. Each platform makes its own set (managed plugins hold their server). */
export const PLUGINS: Record<string, (context: ServiceContext) => ServicePlugin> = {
  sqlite: sqlitePlugin,
  postgres: managedPostgres,
  mysql: managedMysql,
  redis: managedRedis,
  'postgres-external': externalPostgres,
  'mysql-external': externalMysql,
  'redis-external': externalRedis,
  filesystem: filesystemPlugin,
  parameters: parametersPlugin,
};

export const PLUGIN_NAMES = Object.keys(PLUGINS);

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
};
