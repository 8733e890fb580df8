import { assertSafe, forgetPassword, resourceName, servicePassword } from './names.js';
import type { ServiceRequest } from './types.js';

/**
 * The read-only account a service's queries run as (db query, the API's
 * and MCP's query_database and describe_database): a user or role of its
 * own beside the app's, allowed SELECT (and SHOW VIEW) on the service's
 * database and nothing else, so a query cannot write, lock, call, or end
 * the app's sessions whatever it is. Its name is the service's resource
 * name with "-ro" (a hyphen no resource name holds, so it is never another
 * service's); its password is random and kept like the service's own
 * ($PAASMAKER_HOME/secrets/<plugin>_readonly/<resource>, 0600).
 */
export interface Reader {
  /** The account's name (quote it: it holds a hyphen). */
  user: string;
  password: string;
}

const SUFFIX = '-ro';

/** The reader of a service whose resource names stop at `max` characters. */
export function readerOf(home: string, plugin: string, request: Pick<ServiceRequest, 'app' | 'service' | 'branch'>, max: number): Reader {
  const base = resourceName(request, max - SUFFIX.length);
  return { user: `${base}${SUFFIX}`, password: servicePassword(home, secretsOf(plugin), base) };
}

/** The reader's name for `base` (a resource name), for a DROP. */
export const readerName = (request: Pick<ServiceRequest, 'app' | 'service' | 'branch'>, max: number): string => `${resourceName(request, max - SUFFIX.length)}${SUFFIX}`;

export function forgetReader(home: string, plugin: string, request: Pick<ServiceRequest, 'app' | 'service' | 'branch'>, max: number): void {
  forgetPassword(home, secretsOf(plugin), resourceName(request, max - SUFFIX.length));
}

const secretsOf = (plugin: string): string => `${plugin}_readonly`;

/** A reader's name as a PostgreSQL identifier. */
export const pgReader = (user: string): string => `"${assertSafe(user.slice(0, -SUFFIX.length))}${SUFFIX}"`;
/** A reader's name as a MariaDB/MySQL string (accounts are 'user'@'host'). */
export const myReader = (user: string): string => `'${assertSafe(user.slice(0, -SUFFIX.length))}${SUFFIX}'`;

const queues = new Map<string, Promise<unknown>>();

/** Runs fn after every other fn of the same key in this process: two grants at once on one catalog row fail in PostgreSQL. */
export function oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = queues.get(key) ?? Promise.resolve();
  const next = before.catch(() => {}).then(fn);
  queues.set(key, next);
  void next.catch(() => {}).then(() => {
    if (queues.get(key) === next) queues.delete(key);
  });
  return next;
}
