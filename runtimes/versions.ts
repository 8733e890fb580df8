import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path';
import semver from 'semver';
import type { ResolvedInstance, SourcePosition } from '../src/shared/manifest.js';
import { PaasmakerError } from '../src/shared/errors.js';
import { executable } from '../src/shared/executable.js';
import type { RuntimeVersion } from './types.js';

/** A RuntimeVersion that also knows its interpreter binary. */
export interface Interpreter extends RuntimeVersion {
  binary: string;
}

const versionCache = new Map<string, Promise<string | undefined>>();

/**
 * `<binary> --version`, parsed to a semver string. Cached per binary path for
 * the life of the process: spawning interpreters is the slow part of startup.
 */
export function binaryVersion(binary: string): Promise<string | undefined> {
  let pending = versionCache.get(binary);
  if (!pending && !executable() && sameFile(binary, process.execPath)) {
    // The node running Paasmaker: its version is already known, no spawn needed (not the single executable: it is no node for apps).
    pending = Promise.resolve(process.versions.node);
    versionCache.set(binary, pending);
  }
  if (!pending) {
    pending = new Promise((resolve) => {
      execFile(binary, ['--version'], { timeout: 5000 }, (error, stdout, stderr) => {
        if (error) return resolve(undefined);
        // node prints "v20.20.2" on stdout; python 2 printed "Python 2.7.18" on stderr.
        const match = /(\d+\.\d+(?:\.\d+)?)/.exec(`${stdout} ${stderr}`);
        resolve(match ? (semver.coerce(match[1])?.version ?? undefined) : undefined);
      });
    });
    versionCache.set(binary, pending);
  }
  return pending;
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

export function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` in the env's PATH (relative PATH entries are ignored). */
export function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** An interpreter found on PATH, with its version; undefined when it is absent or will not say. */
export async function pathInterpreter(name: string, env: NodeJS.ProcessEnv): Promise<Interpreter | undefined> {
  const binary = onPath(name, env);
  if (!binary) return undefined;
  const version = await binaryVersion(binary);
  return version ? { version, binDir: dirname(binary), source: 'PATH', binary } : undefined;
}

/**
 * Installs kept by a version manager: `<root>/<version>/<binSuffix>/<binary>`.
 * The version comes from the folder name (`v20.11.1`, `3.11.7`), so listing
 * them spawns nothing.
 */
export function managedInstalls(root: string, binSuffix: string, binary: string, source: string): Interpreter[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  const found: Interpreter[] = [];
  for (const entry of entries) {
    const version = semver.clean(entry);
    const binDir = join(root, entry, binSuffix);
    const file = join(binDir, binary);
    if (version && isExecutable(file)) found.push({ version, binDir, source, binary: file });
  }
  return found;
}

const LTS_CODENAMES: Record<string, number> = {
  argon: 4, boron: 6, carbon: 8, dubnium: 10, erbium: 12, fermium: 14, gallium: 16, hydrogen: 18, iron: 20, jod: 22, krypton: 24,
};

/** What "any version" is called in nvm files and manifests. */
const ANY = new Set(['', '*', 'x', 'lts', 'lts/*', 'node', 'stable', 'latest', 'current', 'system', 'default']);

/**
 * What people write (`20`, `v20`, `>=3.9`, `20.x`, `lts/*`, `lts/iron`) as a
 * semver range: '*' means any; undefined means it cannot be read as a version.
 */
export function toRange(text: string): string | undefined {
  const trimmed = text.trim().toLowerCase();
  if (ANY.has(trimmed)) return '*';
  const lts = /^lts\/([a-z]+)$/.exec(trimmed);
  if (lts) return LTS_CODENAMES[lts[1]!] === undefined ? '*' : String(LTS_CODENAMES[lts[1]!]);
  const range = trimmed.replace(/(^|[\s=<>^~|])v(?=\d)/g, '$1');
  return semver.validRange(range) ? range : undefined;
}

/** The first meaningful line of a version file (.nvmrc, .node-version, .python-version). */
export function readVersionFile(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .find((line) => line !== '');
  } catch {
    return undefined;
  }
}

/** True when the version fits the range; '*' fits everything, prereleases included. */
export function fits(version: string, range: string): boolean {
  return range === '*' || semver.satisfies(version, range, { includePrerelease: true });
}

/**
 * The default interpreter on PATH (candidates[0], source PATH) when it fits:
 * it is what the developer runs by hand. Otherwise the highest that fits.
 */
export function pickVersion<T extends RuntimeVersion>(candidates: T[], range: string): T | undefined {
  const first = candidates[0];
  if (first && first.source === 'PATH' && fits(first.version, range)) return first;
  return newest(candidates.filter((candidate) => fits(candidate.version, range)));
}

export function newest<T extends RuntimeVersion>(candidates: T[]): T | undefined {
  return [...candidates].sort((a, b) => semver.rcompare(a.version, b.version))[0];
}

/** Drops interpreters already listed (the PATH node is often an nvm one). */
export function uniqueByBinary<T extends Interpreter>(candidates: T[]): T[] {
  const seen = new Set<string>();
  return candidates.filter((candidate) => !seen.has(candidate.binary) && seen.add(candidate.binary));
}

/** Drops interpreters reached by another name (Debian's php is a link to php8.2, ruby to ruby3.1). */
export function uniqueByRealpath<T extends Interpreter>(candidates: T[]): T[] {
  const seen = new Set<string>();
  return candidates.filter((candidate) => {
    let real = candidate.binary;
    try {
      real = realpathSync(candidate.binary);
    } catch {
      // A binary that vanished keeps its own name.
    }
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** `paasmaker.yml:4:5`, for messages about a declaration. */
export function describePosition(position: SourcePosition): string {
  return `${basename(position.file)}:${position.line}:${position.col}`;
}

/** The range an instance's manifest asks for; undefined when it names none. */
export function manifestRange(instance: ResolvedInstance, runtime: string, examples: string): string | undefined {
  const text = instance.runtime.version;
  if (text === undefined || text.trim() === '') return undefined;
  const range = toRange(text);
  if (range === undefined) {
    throw new PaasmakerError(
      'RUNTIME_VERSION',
      `instance "${instance.name}" asks for ${runtime} "${text}" (${describePosition(instance.position)}), which is not a version or a version range`,
      { hint: `write a version or a semver range, such as ${examples}` },
    );
  }
  return range;
}
