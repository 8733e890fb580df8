import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import semver from 'semver';
import type { RuntimeVersion } from './types.js';

const cache = new Map<string, Promise<string | undefined>>();

/** `<binary> --version`, parsed to a semver string; cached per binary for the life of the process. */
export function binaryVersion(binary: string): Promise<string | undefined> {
  let pending = cache.get(binary);
  if (!pending) {
    pending = new Promise((resolve) => {
      execFile(binary, ['--version'], { timeout: 5000 }, (error, stdout, stderr) => {
        if (error) return resolve(undefined);
        const match = /(\d+\.\d+(?:\.\d+)?)/.exec(`${stdout} ${stderr}`);
        resolve(match ? (semver.coerce(match[1])?.version ?? undefined) : undefined);
      });
    });
    cache.set(binary, pending);
  }
  return pending;
}

/** The first executable called `name` on PATH. */
export function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Installs under a manager's folder: `<root>/<version>/<binSuffix>/<binary>`. */
export async function managedVersions(root: string | undefined, binSuffix: string, binary: string, source: string): Promise<RuntimeVersion[]> {
  if (!root || !existsSync(root)) return [];
  const found: RuntimeVersion[] = [];
  for (const entry of readdirSync(root)) {
    const binDir = join(root, entry, binSuffix);
    const version = semver.coerce(entry)?.version;
    if (version && existsSync(join(binDir, binary))) found.push({ version, binDir, source });
  }
  return found;
}

/** Normalises what people write (`v20`, `lts/*`, `20.x`) into a semver range; undefined means any. */
export function wantedRange(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const trimmed = text.trim().replace(/^v(?=\d)/, '');
  if (trimmed === '' || trimmed.startsWith('lts') || trimmed === 'node' || trimmed === 'latest' || trimmed === '*') return undefined;
  return semver.validRange(trimmed) ? trimmed : undefined;
}

export function pickVersion(candidates: RuntimeVersion[], range: string | undefined): RuntimeVersion | undefined {
  const fitting = candidates.filter((candidate) => !range || semver.satisfies(candidate.version, range, { includePrerelease: true }));
  if (fitting.length === 0) return undefined;
  // The PATH one first, when it fits: it is what the developer runs by hand.
  return fitting.find((candidate) => candidate.source === 'PATH') ?? fitting.sort((a, b) => semver.rcompare(a.version, b.version))[0];
}

export function describePosition(position: { file: string; line: number; col: number }): string {
  const base = position.file.split('/').pop();
  return `${base}:${position.line}:${position.col}`;
}
