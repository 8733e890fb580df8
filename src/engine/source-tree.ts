import { chmod, copyFile, lstat, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';

/** Folders a copied folder leaves behind: git's own, and the dependencies `prepare` installs afresh. */
export const FOLDER_EXCLUDES: ReadonlySet<string> = new Set(['.git', 'node_modules']);

/** Permission bits only: a version's files are never setuid, setgid or sticky. */
const MODE_BITS = 0o777;

/**
 * Copies a folder's tree into `to` (which exists): files with their mode,
 * symlinks as links (never followed, wherever they point), without the
 * excluded names at any depth nor the folder `skip` (the copy's own
 * destination, when it lies inside the source). Sockets and pipes are left out.
 */
export async function copyTree(from: string, to: string, options: { exclude?: ReadonlySet<string>; skip?: string; log?: (line: string) => void } = {}): Promise<void> {
  const exclude = options.exclude ?? FOLDER_EXCLUDES;
  const walk = async (source: string, target: string): Promise<void> => {
    for (const entry of await readdir(source, { withFileTypes: true })) {
      if (exclude.has(entry.name)) continue;
      const path = join(source, entry.name);
      if (path === options.skip) continue;
      const into = join(target, entry.name);
      if (entry.isDirectory()) {
        await mkdir(into, { mode: 0o700 });
        await walk(path, into);
        // Last, so a read-only folder is still writable while it is filled.
        await chmod(into, (await lstat(path)).mode & MODE_BITS);
      } else if (entry.isSymbolicLink()) {
        await symlink(await readlink(path), into);
      } else if (entry.isFile()) {
        await copyFile(path, into);
        await chmod(into, (await lstat(path)).mode & MODE_BITS);
      } else {
        options.log?.(`left out ${relative(from, path)}: not a file, folder or symlink`);
      }
    }
  };
  await walk(from, to);
}

/**
 * Copies the files named (relative to `from`) into `to`: what a git work
 * tree holds, uncommitted changes included. A name no longer on disk (a
 * deleted file) is skipped; a folder (a submodule) is left out. Returns the
 * names left out as folders.
 */
export async function copyListed(from: string, to: string, names: readonly string[]): Promise<string[]> {
  const folders: string[] = [];
  for (const name of names) {
    const path = join(from, name);
    const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
      throw error;
    });
    if (!stat) continue;
    const into = join(to, name);
    if (stat.isDirectory()) {
      folders.push(name);
      continue;
    }
    await mkdir(dirname(into), { recursive: true, mode: 0o755 });
    if (stat.isSymbolicLink()) await symlink(await readlink(path), into);
    else if (stat.isFile()) {
      await copyFile(path, into);
      await chmod(into, stat.mode & MODE_BITS);
    }
  }
  return folders;
}

/**
 * The bytes of the regular files under a tree. Anything but files, folders
 * and symlinks (a device, a pipe, an archive's trick) is refused, and
 * setuid, setgid and sticky bits are cleared.
 */
export async function measureTree(root: string, describe: string): Promise<{ size: number; files: number }> {
  let size = 0;
  let files = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        files += 1;
        continue;
      }
      const stat = await lstat(path);
      if ((stat.mode & 0o7000) !== 0) await chmod(path, stat.mode & MODE_BITS);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        size += stat.size;
        files += 1;
      } else {
        throw new PaasmakerError('SOURCE_INVALID', `${describe} holds ${relative(root, path)}, which is not a file, folder or symlink`, {
          hint: 'a version holds files only: leave devices, pipes and sockets out of the source',
        });
      }
    }
  };
  await walk(root);
  return { size, files };
}
