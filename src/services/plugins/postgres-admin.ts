import { pgIdent } from '../names.js';
import { runClient } from '../run-client.js';

/** How to reach a server as its administrator with psql (pg_dump and pg_restore take the same arguments). */
/** PostgreSQL's longest name (NAMEDATALEN - 1). */
export const PG_NAME_MAX = 63;

export interface PgAdmin {
  psql: string;
  args: string[];
  env: Record<string, string>;
  /** Host and port apps connect to. */
  host: string;
  port: number;
  /** The server's own binaries, where pg_dump of its major version is found first (a managed cluster). */
  binDir?: string;
}

export async function psql(admin: PgAdmin, sql: string, what: string, secrets: string[] = [], database = 'postgres', timeoutMs?: number): Promise<string> {
  return runClient(admin.psql, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...admin.args, '-d', database], { input: sql, env: admin.env, what, secrets, timeoutMs });
}

/** A database owned by `owner` and closed to every other role: a service's, or the fresh copy a restore fills. */
export function createDatabase(database: string, owner: string): { create: string; close: string } {
  return {
    create: `CREATE DATABASE ${pgIdent(database)} OWNER ${pgIdent(owner)} ENCODING 'UTF8' TEMPLATE template0`,
    close: `REVOKE ALL ON DATABASE ${pgIdent(database)} FROM PUBLIC;\nGRANT ALL ON DATABASE ${pgIdent(database)} TO ${pgIdent(owner)};`,
  };
}
