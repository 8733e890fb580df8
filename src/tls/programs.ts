import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Where a program is: an absolute path that is executable, or the first one of that name on PATH (and the sbin folders, where root's tools live). */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = isAbsolute(name) ? [name] : [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'].map((dir) => join(dir, name));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not there
    }
  }
  return undefined;
}

export const onPath = (name: string, env: NodeJS.ProcessEnv = process.env): boolean => which(name, env) !== undefined;
