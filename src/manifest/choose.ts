import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import { didYouMean, displayPath } from './positions.js';
import type { ManifestKind, ResolvedManifest } from './types.js';

/**
 * Where Paasmaker looks in a folder, in order. `Procfile` before
 * `Procfile.dev`, as foreman, overmind and hivemind read `Procfile` unless
 * told otherwise; `Procfile.dev` (Rails' `bin/dev`) is the fallback.
 */
export const CANDIDATES: readonly string[] = ['paasmaker.yml', 'paasmaker.yaml', 'manifest.yml', 'Procfile', 'Procfile.dev'];

/** How a manifest file is read, from its name: a Procfile by name (`Procfile`, `Procfile.dev`, `web.procfile`), the original format as `manifest.yml`, paasmaker.yml otherwise. */
export function manifestKind(file: string): ManifestKind {
  const name = basename(file);
  if (/^Procfile(\..+)?$/i.test(name) || /\.procfile$/i.test(name)) return 'Procfile';
  if (/^manifest\.ya?ml$/.test(name)) return 'manifest.yml';
  return 'paasmaker.yml';
}

export function findManifest(dir: string): { file: string; kind: ManifestKind } | undefined {
  for (const name of CANDIDATES) {
    const file = join(dir, name);
    if (existsSync(file)) return { file, kind: manifestKind(file) };
  }
  return undefined;
}

/** What `paasmaker up [DIR] [INSTANCE...]` (with `-f FILE` or $PAASMAKER_MANIFEST) asks for. */
export interface ManifestChoice {
  /** The project folder, or the manifest file chosen in it. */
  path: string;
  /** Instance types to run (their dependencies too); empty: all. */
  instances: string[];
  /** True when a file was chosen other than the one the folder's search finds. */
  chosenFile: boolean;
}

/**
 * Reads `up`'s words. The first is the project folder when it reads as a path
 * (`.`, `..`, anything with a `/`), is a folder holding a manifest, or
 * there is no manifest here; every other word names an instance type
 * (`up web worker`, `up ../shop web`).
 * A file (`-f`, else $PAASMAKER_MANIFEST) is found from that folder.
 */
export function chooseManifest(words: readonly string[], file?: { path: string; from: string }, cwd = process.cwd()): ManifestChoice {
  const [first, ...rest] = words;
  const pathLike = (word: string) => /^\.\.?$/.test(word) || word.includes('/');
  const project = (word: string) => isDirectory(resolve(cwd, word)) && findManifest(resolve(cwd, word)) !== undefined;
  // Where no manifest is here to name instances of, a word can only be a folder (and a missing one is said so).
  const isFolder = first !== undefined && (pathLike(first) || project(first) || (!file && findManifest(cwd) === undefined));
  const directory = resolve(cwd, isFolder ? first : '.');
  const instances = [...new Set(isFolder ? rest : words)];
  if (!file || file.path === '') return { path: directory, instances, chosenFile: false };
  const path = resolve(directory, file.path);
  if (isDirectory(path)) return { path, instances, chosenFile: false };
  if (!existsSync(path)) {
    const near = existsSync(dirname(path)) ? readdirSync(dirname(path)) : [];
    const guess = didYouMean(basename(path), near);
    throw new PaasmakerError('MANIFEST_NOT_FOUND', `${file.from} names ${displayPath(path, cwd)}, which does not exist${guess ? ` — did you mean "${guess}"?` : ''}`, {
      hint: 'name a paasmaker.yml, a manifest.yml or a Procfile (Procfile.dev, …), relative to the project folder',
    });
  }
  // The file a search of the folder finds anyway is no choice (PAASMAKER_MANIFEST=Procfile.dev where it is the only one).
  return { path, instances, chosenFile: path !== findManifest(directory)?.file };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The manifest with only the named instance types and every type they
 * depend on (compose's `up web`, overmind's `-l web`), in declaration order;
 * services are kept. No names: the manifest as it is.
 */
export function selectInstances(manifest: ResolvedManifest, names: readonly string[]): ResolvedManifest {
  if (names.length === 0) return manifest;
  const declared = new Map(manifest.instances.map((instance) => [instance.name, instance]));
  for (const name of names) {
    if (declared.has(name)) continue;
    const known = [...declared.keys()];
    const guess = didYouMean(name, known);
    throw new PaasmakerError('INSTANCE_NOT_FOUND', `${displayPath(manifest.file)} has no instance type "${name}"${guess ? ` — did you mean "${guess}"?` : ''}`, {
      hint: `its instance types: ${known.join(', ')}`,
    });
  }
  const chosen = new Set<string>();
  const queue = [...names];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (chosen.has(name) || !declared.has(name)) continue; // depends_on may name a service
    chosen.add(name);
    queue.push(...declared.get(name)!.depends_on);
  }
  return { ...manifest, instances: manifest.instances.filter((instance) => chosen.has(instance.name)), only: [...names] };
}
