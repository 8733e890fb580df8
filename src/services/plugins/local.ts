import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Credentials, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';
import { resourceName } from '../names.js';
import { INSTALL, requireBinary } from '../binaries.js';

/** $PAASMAKER_HOME/data/<app>/ — where file-based services keep an app's data. */
function appDataDir(context: ServiceContext, request: ServiceRequest): string {
  const dir = join(context.home, 'data', request.app);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

const baseName = (request: ServiceRequest) => (request.branch ? `${request.service}@${resourceName({ app: '', service: request.branch, branch: '' })}` : request.service);

/** The default service: a SQLite file of the app's own. */
export function sqlitePlugin(context: ServiceContext): ServicePlugin {
  const file = (request: ServiceRequest) => join(appDataDir(context, request), `${baseName(request)}.sqlite`);
  return {
    name: 'sqlite',
    summary: 'a SQLite database file under $PAASMAKER_HOME/data',
    kind: 'sql',
    async provision(request): Promise<Credentials> {
      const path = file(request);
      // An empty file is a valid, empty database; creating it here makes it the owner's only.
      if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
      return { protocol: 'sqlite', path, database: path, url: `sqlite://${path}` };
    },
    async destroy(request) {
      const path = file(request);
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
    },
    async clone(from, to) {
      // provision() made the new file empty; only an empty one is replaced.
      if (existsSync(file(from)) && statSync(file(to)).size === 0) copyFileSync(file(from), file(to));
    },
    shell: (credentials) => ({ command: requireBinary(['sqlite3'], 'paasmaker db shell', INSTALL.sqlite3, context.env), args: [credentials.path!], env: {} }),
  };
}

/** A folder that outlives every deploy (uploads, caches): <NAME>_PATH. */
export function filesystemPlugin(context: ServiceContext): ServicePlugin {
  const folder = (request: ServiceRequest) => join(appDataDir(context, request), baseName(request));
  return {
    name: 'filesystem',
    summary: 'a persistent folder under $PAASMAKER_HOME/data',
    kind: 'file',
    async provision(request) {
      const path = folder(request);
      mkdirSync(path, { recursive: true, mode: 0o700 });
      return { protocol: 'file', path };
    },
    async destroy(request) {
      rmSync(folder(request), { recursive: true, force: true });
    },
  };
}

/** Values from config or the manifest, handed over as they are (the original's parameters service). */
export function parametersPlugin(): ServicePlugin {
  return {
    name: 'parameters',
    summary: 'values passed through from config.yml or the manifest',
    kind: 'values',
    async provision(request) {
      const values: Record<string, string> = {};
      for (const [key, value] of Object.entries(request.options)) {
        if (key === 'admin_url' || key === 'per_branch' || key === 'clone_from') continue;
        values[key] = typeof value === 'string' ? value : JSON.stringify(value);
      }
      return { protocol: 'parameters', values };
    },
    async destroy() {},
  };
}
