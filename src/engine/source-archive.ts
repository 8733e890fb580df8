import { open, readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { escapingName } from '../shared/archive-names.js';
import { PaasmakerError } from '../shared/errors.js';
import { lastLine, runTool, ToolFailure } from './source-tools.js';

export type ArchiveFormat = 'tar.gz' | 'tar' | 'zip';

export const ARCHIVE_EXTENSIONS = '.tar.gz, .tgz, .tar or .zip';

/** The format a file's name says, or null. */
export function formatFromName(path: string): ArchiveFormat | null {
  const name = path.toLowerCase();
  if (name.endsWith('.tar.gz') || name.endsWith('.tgz')) return 'tar.gz';
  if (name.endsWith('.tar')) return 'tar';
  if (name.endsWith('.zip')) return 'zip';
  return null;
}

/** The format a file's first bytes say (gzip, zip, or a POSIX tar header), or null. */
export async function formatFromContent(path: string): Promise<ArchiveFormat | null> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(262);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
    if (bytesRead >= 4 && head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'zip';
    if (bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
    return null;
  } finally {
    await file.close();
  }
}

export { escapingName };

/**
 * Extracts an archive into `into` (an empty folder), after checking that
 * no member's name is absolute or climbs out with `..`. Symlinks inside the
 * archive are created by tar and unzip after the files (both delay them), so
 * a member cannot be written through one.
 */
export async function extractArchive(file: string, format: ArchiveFormat, into: string, options: { describe: string; signal?: AbortSignal }): Promise<void> {
  const { describe, signal } = options;
  const unreadable = (failure: unknown) => {
    if (!(failure instanceof ToolFailure)) return failure;
    return new PaasmakerError('SOURCE_INVALID', `${describe} is not a readable ${format} archive: ${lastLine(failure.stderr) || failure.message}`, {
      hint: `give a ${ARCHIVE_EXTENSIONS} file`,
      detail: failure.stderr.trim().split('\n').slice(-5).join('\n') || undefined,
    });
  };
  const listing = await (format === 'zip' ? runTool('unzip', ['-Z1', file], { signal }) : runTool('tar', ['-tf', file], { signal })).catch((failure: unknown) => {
    // zipinfo answers an empty archive with exit 1 ("Empty zipfile.").
    if (failure instanceof ToolFailure && format === 'zip' && /empty zipfile/i.test(failure.stderr + failure.message)) return '';
    throw unreadable(failure);
  });
  const names = listing.split('\n').filter(Boolean);
  const escaping = names.filter(escapingName);
  if (escaping.length > 0) {
    throw new PaasmakerError('SOURCE_INVALID', `${describe} holds paths outside its own folder: ${escaping.slice(0, 5).join(', ')}${escaping.length > 5 ? ` and ${escaping.length - 5} more` : ''}`, {
      hint: 'an archive for a deploy holds relative paths only (no leading / and no ..)',
    });
  }
  if (names.length === 0) throw new PaasmakerError('SOURCE_INVALID', `${describe} is empty`, { hint: 'archive the application\'s folder' });
  // -P '': an encrypted zip fails instead of asking for a password on the terminal.
  const extract = format === 'zip' ? runTool('unzip', ['-qq', '-o', '-P', '', file, '-d', into], { signal }) : runTool('tar', ['-xf', file, '-C', into, '--no-same-owner'], { signal });
  await extract.catch((failure: unknown) => {
    throw unreadable(failure);
  });
}

/**
 * Where the exported tree's root is: the one folder an archive holds when
 * it holds nothing else (GitHub's "repo-main/"), else the extraction folder.
 */
export async function archiveRoot(extracted: string): Promise<string> {
  const entries = await readdir(extracted);
  if (entries.length !== 1) return extracted;
  const only = join(extracted, entries[0]!);
  return (await lstat(only)).isDirectory() ? only : extracted;
}
