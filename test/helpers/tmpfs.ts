import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small tmpfs of its own, to fill up: a real full disk for fault tests.
 * Undefined (with the reason) where this process may not mount one (not
 * root, a container without CAP_SYS_ADMIN, not Linux).
 */
export function mountTmpfs(sizeMb: number): { dir: string; unmount: () => void } | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'a tmpfs needs Linux' };
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' };
  const dir = mkdtempSync(join(tmpdir(), 'pm-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `mount -t tmpfs is not allowed here: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}` };
  }
  let mounted = true;
  return {
    dir,
    unmount: () => {
      if (!mounted) return;
      // Lazy: a process still holding a file there must not keep the mount (or the test) alive.
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      mounted = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the file system holding dir: a file as large as the space left (remove it to free the space). */
export function fillDisk(dir: string): string {
  const file = join(dir, 'filler');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=64k'], { stdio: 'ignore' });
  } catch {
    // dd stops with "No space left on device": that is the point
  }
  return file;
}
