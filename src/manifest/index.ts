import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { PaasmakerError } from '../shared/errors.js';
import { parseFormat1 } from './format1.js';
import { parsePaasmakerYml } from './paasmaker-yml.js';
import { parseProcfile } from './procfile.js';
import type { ManifestKind, ResolvedManifest } from './types.js';

export type * from './types.js';
export { codeFrame, didYouMean, displayPath, manifestError, PositionFinder } from './positions.js';

/** Where Paasmaker looks, in order. */
const CANDIDATES: Array<[string, ManifestKind]> = [
  ['paasmaker.yml', 'paasmaker.yml'],
  ['paasmaker.yaml', 'paasmaker.yml'],
  ['manifest.yml', 'manifest.yml'],
  ['Procfile', 'Procfile'],
];

export function findManifest(dir: string): { file: string; kind: ManifestKind } | undefined {
  for (const [name, kind] of CANDIDATES) {
    const file = join(dir, name);
    if (existsSync(file)) return { file, kind };
  }
  return undefined;
}

/** Finds and reads a project's manifest (and .env) into a ResolvedManifest. */
export function loadManifest(dir: string): ResolvedManifest {
  const directory = resolve(dir);
  if (!existsSync(directory)) {
    throw new PaasmakerError('MANIFEST_NOT_FOUND', `${directory} does not exist`, { hint: 'pass the folder of a project: paasmaker up path/to/project' });
  }
  const found = findManifest(directory);
  if (!found) {
    throw new PaasmakerError('MANIFEST_NOT_FOUND', `no paasmaker.yml, manifest.yml or Procfile in ${directory}`, {
      hint: 'create paasmaker.yml, for example:\n  application:\n    name: my-app\n  instances:\n    web:\n      command: node server.js',
    });
  }
  return parseManifest(readFileSync(found.file, 'utf8'), found.file, found.kind);
}

/** Reads manifest text (kind from the file name unless given). */
export function parseManifest(text: string, file: string, kind?: ManifestKind): ResolvedManifest {
  const absolute = resolve(file);
  const directory = dirname(absolute);
  const which = kind ?? (basename(absolute) === 'Procfile' ? 'Procfile' : basename(absolute) === 'manifest.yml' ? 'manifest.yml' : 'paasmaker.yml');
  const base =
    which === 'Procfile' ? parseProcfile(text, absolute, directory) : which === 'manifest.yml' ? parseFormat1(text, absolute, directory) : parsePaasmakerYml(text, absolute, directory);
  return { ...base, dotenv: readDotenv(directory) };
}

function readDotenv(directory: string): ResolvedManifest['dotenv'] {
  const file = join(directory, '.env');
  if (!existsSync(file)) return { values: {} };
  return { file, values: parseDotenv(readFileSync(file)) };
}
