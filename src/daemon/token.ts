import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The bearer token of the API's TCP listener: $PAASMAKER_HOME/api-token, made (0600) on first use and kept across restarts. */
export function apiToken(home: string): string {
  const file = join(home, 'api-token');
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}
