import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parse as parseDotenv } from 'dotenv';
import { registry } from '../shared/plugin-registry.js';
import { appKey } from '../shared/app-keys.js';
import { PaasmakerError, type ErrorCode } from '../shared/errors.js';
import { findCheckout, worktreesApart } from '../shared/git-checkout.js';
import { parseFormat1 } from './format1.js';
import { parsePaasmakerYml } from './paasmaker-yml.js';
import { chooseManifest, findManifest, manifestKind, selectInstances, type ManifestChoice } from './choose.js';
import { displayPath, manifestError } from './positions.js';
import { parseProcfile } from './procfile.js';
import type { ManifestKind, ResolvedManifest } from './types.js';

export type * from './types.js';
export { codeFrame, didYouMean, displayPath, manifestError, PositionFinder } from './positions.js';
export { plainValues } from './yaml-values.js';
export { CANDIDATES, chooseManifest, findManifest, selectInstances, type ManifestChoice } from './choose.js';
export { appNameFromFolder } from './procfile.js';
export { APP_NAME } from './schema.js';

/** Reads a project's manifest (and .env) into a ResolvedManifest: the one found in a folder, or the file given. */
export function loadManifest(dir: string): ResolvedManifest {
  const found = locate(dir);
  return parseManifest(readLimited(found.file), found.file, found.kind);
}

const pluginRuntimes = () => registry.runtimeNames.some((name) => registry.runtimeOrigin(name) !== 'built-in');

/** Below this size (a large real manifest) reading on the calling thread takes tens of milliseconds at most, even cold. */
export const INLINE_MANIFEST_BYTES = 8 * 1024;

/**
 * loadManifest for a long-lived process that routes other apps' traffic: a
 * manifest larger than INLINE_MANIFEST_BYTES is read in a worker thread, so
 * reading a large file never holds up the event loop.
 */
export async function loadManifestAsync(dir: string): Promise<ResolvedManifest> {
  const found = locate(dir);
  const worker = new URL('./read-worker.js', import.meta.url);
  // Run from TypeScript sources (the unit tests) there is no compiled worker to start.
  // A plugin's runtimes are known on this thread only (plugins load once per process): such a manifest is read here.
  if (statSync(found.file).size <= INLINE_MANIFEST_BYTES || !existsSync(fileURLToPath(worker)) || pluginRuntimes()) return loadManifest(dir);
  type Answer = { manifest?: string; refused?: { code: ErrorCode; message: string; hint?: string; detail?: string }; bug?: { message: string; stack?: string } };
  const answer = await new Promise<Answer>((resolveAnswer, reject) => {
    // execArgv: none of the parent's flags (--input-type, loaders) apply to the reader.
    const thread = new Worker(worker, { workerData: { directory: resolve(dir) }, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: 512 } });
    thread.once('message', resolveAnswer);
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`the manifest reader stopped (exit code ${code}) before answering`)));
  });
  if (answer.refused) throw new PaasmakerError(answer.refused.code, answer.refused.message, { hint: answer.refused.hint, detail: answer.refused.detail });
  if (answer.bug) throw Object.assign(new Error(answer.bug.message), { stack: answer.bug.stack });
  return JSON.parse(answer.manifest!) as ResolvedManifest;
}

/**
 * The manifest `up` runs, in the foreground or the daemon: the folder's, or
 * the file chosen (relative to the folder), with only the instance types
 * named and what they depend on.
 */
export async function loadChosenManifest(words: readonly string[], file?: { path: string; from: string }, cwd?: string): Promise<{ manifest: ResolvedManifest; choice: ManifestChoice }> {
  const choice = chooseManifest(words, file, cwd);
  return { manifest: selectInstances(await loadManifestAsync(choice.path), choice.instances), choice };
}

/**
 * A manifest chosen as before (`up -f Procfile.dev`, `up web`): the same file
 * read again, the same instance types chosen, for a reload on save or a
 * daemon bringing its projects back.
 */
export async function reloadManifest(previous: Pick<ResolvedManifest, 'file' | 'only'>): Promise<ResolvedManifest> {
  return selectInstances(await loadManifestAsync(previous.file), previous.only ?? []);
}

function locate(dir: string): { file: string; kind: ManifestKind } {
  const directory = resolve(dir);
  if (!existsSync(directory)) {
    throw new PaasmakerError('MANIFEST_NOT_FOUND', `${directory} does not exist`, { hint: 'pass the folder of a project: paasmaker up path/to/project' });
  }
  if (!statSync(directory).isDirectory()) return { file: directory, kind: manifestKind(directory) };
  const found = findManifest(directory);
  if (!found) {
    throw new PaasmakerError('MANIFEST_NOT_FOUND', `no paasmaker.yml, manifest.yml, Procfile or Procfile.dev in ${directory}`, {
      hint: 'create paasmaker.yml, for example:\n  application:\n    name: my-app\n  instances:\n    web:\n      command: node server.js',
    });
  }
  return found;
}

/**
 * The largest manifest (and .env) Paasmaker reads: twenty-five times a large
 * real one. Reading is linear, but a larger file could only hold more environment
 * than a process can be given (Linux allows 2 MB of arguments and environment
 * together), and even a daemon that reads it in a worker thread must then
 * turn the answer into values on its own.
 */
export const MAX_MANIFEST_BYTES = 512 * 1024;

/** A file's text, refused (without reading it whole) when larger than MAX_MANIFEST_BYTES. */
function readLimited(file: string): string {
  const stats = statSync(file);
  if (!stats.isFile()) throw new PaasmakerError('MANIFEST_INVALID', `${displayPath(file)} is not a file`, { hint: 'Paasmaker reads it as a manifest: make it a file, or rename it' });
  const size = stats.size;
  if (size <= MAX_MANIFEST_BYTES) return readFileSync(file, 'utf8');
  const head = Buffer.alloc(4096);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  throw tooLarge(file, head.toString('utf8'), size);
}

function tooLarge(file: string, text: string, size: number): Error {
  return manifestError(file, text, { line: 1, col: 1 }, `this file is ${size.toLocaleString('en-US')} bytes; Paasmaker reads files of up to ${MAX_MANIFEST_BYTES / 1024} KB`, 'no process could be given that much environment anyway: move large values into files the app reads itself');
}

/** Reads manifest text (kind from the file name unless given). */
export function parseManifest(text: string, file: string, kind?: ManifestKind): ResolvedManifest {
  const absolute = resolve(file);
  const directory = dirname(absolute);
  if (text.length > MAX_MANIFEST_BYTES) throw tooLarge(absolute, text.slice(0, 4096), Buffer.byteLength(text));
  const which = kind ?? manifestKind(absolute);
  const base =
    which === 'Procfile' ? parseProcfile(text, absolute, directory) : which === 'manifest.yml' ? parseFormat1(text, absolute, directory) : parsePaasmakerYml(text, absolute, directory);
  return withCheckout({ ...base, dotenv: readDotenv(directory) });
}

/**
 * A manifest read in a linked git worktree names an app of its own,
 * "<app>@<branch>", so every checkout of a project runs at once; the main
 * worktree keeps the plain name (and every state row made before).
 */
function withCheckout(manifest: ResolvedManifest): ResolvedManifest {
  if (!worktreesApart() || !existsSync(manifest.directory)) return manifest;
  const checkout = findCheckout(manifest.directory);
  if (!checkout || checkout.main) return manifest;
  const app = manifest.application.name;
  return {
    ...manifest,
    application: { ...manifest.application, name: appKey(app, checkout.label) },
    checkout: { app, label: checkout.label, branch: checkout.branch, detached: checkout.detached, worktree: checkout.worktree },
  };
}

function readDotenv(directory: string): ResolvedManifest['dotenv'] {
  const file = join(directory, '.env');
  if (!existsSync(file)) return { values: {} };
  const text = readLimited(file);
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const before = text.slice(0, nul).split('\n');
    throw manifestError(file, text, { line: before.length, col: before[before.length - 1]!.length + 1 }, 'this file holds a NUL character (\\0), which no variable can carry', 'remove the \\0');
  }
  return { file, values: parseDotenv(text) };
}
