import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkoutLabel } from './app-keys.js';

/** Which checkout of a repository a folder is in. */
export interface Checkout {
  /** The folder's work tree (git rev-parse --show-toplevel). */
  worktree: string;
  /** True for the repository's main worktree: the one whose git dir is the common dir. */
  main: boolean;
  /** The branch checked out; for a detached HEAD, the short commit. */
  branch: string;
  detached: boolean;
  /** The branch (or commit) as a host name label. */
  label: string;
}

function git(directory: string, args: string[]): string {
  return execFileSync('git', ['-C', directory, ...args], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim();
}

/**
 * The checkout a folder belongs to, or undefined outside git (or before the
 * first commit). A linked worktree (git worktree add) has a git dir of its
 * own under the common one; the main worktree's git dir is the common dir.
 */
export function findCheckout(directory: string): Checkout | undefined {
  try {
    const [gitDir, commonDir, worktree, ref] = git(directory, ['rev-parse', '--absolute-git-dir', '--git-common-dir', '--show-toplevel', '--abbrev-ref', 'HEAD']).split('\n');
    if (!gitDir || !commonDir || !worktree || !ref) return undefined;
    const detached = ref === 'HEAD';
    const branch = detached ? git(directory, ['rev-parse', '--short', 'HEAD']) : ref;
    return { worktree, main: resolve(gitDir) === resolve(directory, commonDir), branch, detached, label: checkoutLabel(branch) };
  } catch {
    return undefined;
  }
}

/** Whether checkouts other than a repository's main worktree run as apps of their own (PAASMAKER_WORKTREES=0 turns it off). */
export function worktreesApart(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PAASMAKER_WORKTREES !== '0';
}

/** A checkout that no longer exists: its folder is gone (git worktree remove, rm -r), or is no longer a git work tree. */
export function checkoutGone(worktree: string): boolean {
  return !existsSync(worktree) || findCheckout(worktree) === undefined;
}
