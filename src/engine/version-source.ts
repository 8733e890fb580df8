import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import type { SourceInfo, SourceSpec } from './deploy-types.js';
import { ARCHIVE_EXTENSIONS, archiveRoot, extractArchive, formatFromContent, formatFromName, type ArchiveFormat } from './source-archive.js';
import { displayUrl, exportGitRepository, exportGitUrl, isUrl } from './source-git.js';
import { copyTree, measureTree } from './source-tree.js';
import { DISK_FULL_HINT } from './source-tools.js';

export interface ExportOptions {
  /** What relative paths are relative to (default: this process's working directory). */
  cwd?: string;
  signal?: AbortSignal;
  /** Lines worth showing in the deploy's job log. */
  log?: (line: string) => void;
}

/** A source read from its spec: where it is and how to read it. */
type Located =
  | { kind: 'git'; url: string }
  | { kind: 'git'; path: string }
  | { kind: 'archive'; path: string; format: ArchiveFormat }
  | { kind: 'folder'; path: string };

/**
 * Writes a version's code into `dest` (which must not exist yet) from a git
 * repository, an archive, a folder or an upload, and says what it wrote. The
 * code is assembled in a sibling folder and renamed into place, so `dest`
 * either holds the whole export or does not exist: a failure leaves nothing.
 */
export async function exportSource(spec: SourceSpec, dest: string, options: ExportOptions = {}): Promise<SourceInfo & { size: number }> {
  const target = resolve(dest);
  if (existsSync(target)) throw new Error(`a version's folder must not exist before its export: ${target}`);
  await mkdir(dirname(target), { recursive: true, mode: 0o755 });
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.export-`));
  try {
    const info = await exportInto(spec, staging, options);
    // An archive holding one folder and nothing else (GitHub's "repo-main/") has that folder as its root.
    const root = info.kind === 'archive' ? await archiveRoot(staging) : staging;
    const describe = info.source;
    const { size, files } = await measureTree(root, describe);
    if (files === 0) throw new PaasmakerError('SOURCE_INVALID', `${describe} holds no files`, { hint: 'deploy the folder, repository or archive that holds the application' });
    await chmod(root, 0o755);
    await rename(root, target);
    if (root !== staging) await rmdir(staging);
    return { ...info, size };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    await rm(target, { recursive: true, force: true });
    throw fileFailure(error, target);
  }
}

/** A file system's refusal while copying, as something the user can act on. */
function fileFailure(error: unknown, target: string): unknown {
  const { code, path } = (error ?? {}) as NodeJS.ErrnoException;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new PaasmakerError('DISK_FULL', `no space left to write the version into ${dirname(target)}`, { hint: DISK_FULL_HINT, cause: error });
  if (code === 'EACCES' || code === 'EPERM') return new PaasmakerError('SOURCE_INVALID', `${path ?? 'a file of the source'} cannot be read or written: permission denied`, { hint: 'deploy files the user running Paasmaker may read', cause: error });
  return error;
}

async function exportInto(spec: SourceSpec, into: string, options: ExportOptions): Promise<SourceInfo> {
  const { signal, log } = options;
  if (spec.kind === 'upload') {
    const name = spec.name ?? 'upload';
    await extractArchive(spec.file, spec.format, into, { describe: name, signal });
    return {
      kind: spec.commit ? 'git' : 'archive',
      source: name,
      ref: spec.ref ?? null,
      commit: spec.commit ?? null,
      author: spec.author ?? null,
      message: spec.message ?? null,
      dirty: false,
    };
  }
  const located = await locateSource(spec, options.cwd);
  const none = { ref: null, commit: null, author: null, message: null, dirty: false };
  switch (located.kind) {
    case 'git': {
      if ('url' in located) {
        const exported = await exportGitUrl(located.url, into, dirname(into), { ref: spec.ref, signal, log });
        return { kind: 'git', source: displayUrl(located.url), ...exported };
      }
      const exported = await exportGitRepository(located.path, into, { ref: spec.ref, allowDirty: spec.allowDirty, signal, log });
      return { kind: 'git', source: located.path, ...exported };
    }
    case 'archive':
      refuseRef(spec.ref, located.path);
      await extractArchive(located.path, located.format, into, { describe: located.path, signal });
      return { kind: 'archive', source: located.path, ...none };
    case 'folder':
      refuseRef(spec.ref, located.path);
      await copyTree(located.path, into, { skip: into, log });
      return { kind: 'folder', source: located.path, ...none };
  }
}

function refuseRef(ref: string | undefined, path: string): void {
  if (ref !== undefined) throw new PaasmakerError('SOURCE_INVALID', `${path} is not a git repository: a ref ("${ref}") means nothing to it`, { hint: 'leave out the ref, or deploy a git repository' });
}

/**
 * What a location is, when `kind` does not say: a URL or a repository
 * (work tree or bare) is git, a .tar.gz/.tgz/.tar/.zip file an archive, any
 * other folder a folder. Paths are resolved against cwd.
 */
export async function locateSource(spec: Extract<SourceSpec, { location: string }>, cwd: string = process.cwd()): Promise<Located> {
  const { location } = spec;
  if (location.trim() === '') throw new PaasmakerError('SOURCE_INVALID', 'the source is empty', { hint: 'give a git repository (a path or a URL), an archive or a folder' });
  if (isUrl(location)) {
    if (spec.kind !== undefined && spec.kind !== 'git') throw new PaasmakerError('SOURCE_INVALID', `${displayUrl(location)} is a URL: only a git repository can be deployed from one`, { hint: 'download the archive first, or deploy the repository with kind "git"' });
    return { kind: 'git', url: location };
  }
  const path = resolve(cwd, location);
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new PaasmakerError('SOURCE_INVALID', `${path} does not exist`, { hint: 'give a git repository (a path or a URL), an archive or a folder' });
  }
  if (stat.isFile()) {
    if (spec.kind === 'git' || spec.kind === 'folder') throw new PaasmakerError('SOURCE_INVALID', `${path} is a file, not a ${spec.kind === 'git' ? 'git repository' : 'folder'}`);
    const format = formatFromName(path) ?? (spec.kind === 'archive' ? await formatFromContent(path) : null);
    if (!format) throw new PaasmakerError('SOURCE_INVALID', `${path} is neither a ${ARCHIVE_EXTENSIONS} archive nor a folder`, { hint: 'give a git repository, an archive or a folder' });
    return { kind: 'archive', path, format };
  }
  if (!stat.isDirectory()) throw new PaasmakerError('SOURCE_INVALID', `${path} is neither a file nor a folder`);
  if (spec.kind === 'archive') throw new PaasmakerError('SOURCE_INVALID', `${path} is a folder, not an archive`, { hint: `give a ${ARCHIVE_EXTENSIONS} file, or deploy the folder as it is` });
  if (spec.kind === 'folder') return { kind: 'folder', path };
  if (spec.kind === 'git' || isRepository(path)) return { kind: 'git', path };
  return { kind: 'folder', path };
}

/** A git work tree's top (it has .git, a folder or a worktree's file) or a bare repository. */
function isRepository(path: string): boolean {
  if (existsSync(join(path, '.git'))) return true;
  return existsSync(join(path, 'HEAD')) && existsSync(join(path, 'objects')) && existsSync(join(path, 'refs'));
}
