import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { APP_NAME } from '../manifest/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { toolMissing } from './source-tools.js';

/** The branch a push deploys when `git init` is not told another. */
export const DEFAULT_DEPLOY_BRANCH = 'main';

export interface GitRemote {
  /** The bare repository, to `git remote add paasmaker <path>`. */
  path: string;
  /** False when it existed already (its objects kept, its hook rewritten). */
  created: boolean;
  /** The branch whose pushes deploy. */
  branch: string;
}

/** Where an app's bare repository lives: PAASMAKER_HOME/git/<app>.git. */
export function gitRemotePath(home: string, app: string): string {
  if (!APP_NAME.test(app)) {
    throw new PaasmakerError('USAGE', `"${app}" is not an application name`, { hint: 'application names are 1–40 lowercase letters, digits and dashes, starting with a letter or digit' });
  }
  return join(resolve(home), 'git', `${app}.git`);
}

/**
 * Creates (or brings up to date) an app's bare repository, whose
 * pre-receive hook runs `hook` (an argv) with PAASMAKER_HOME set: a push is
 * deployed by that command, and rejected when it exits non-zero. Idempotent:
 * an existing repository keeps its objects; its hook is rewritten and its
 * deploy branch changed only when one is given.
 */
export function createGitRemote(options: { home: string; app: string; branch?: string; hook: string[] }): GitRemote {
  const path = gitRemotePath(options.home, options.app);
  if (options.hook.length === 0) throw new Error('a git remote needs the command its hook runs');
  const home = resolve(options.home);
  for (const word of [home, ...options.hook]) {
    if (word.includes('\0')) throw new Error('a hook word cannot hold a NUL byte');
  }
  const created = !existsSync(join(path, 'HEAD'));
  if (options.branch !== undefined) checkBranch(options.branch);
  const branch = options.branch ?? (created ? DEFAULT_DEPLOY_BRANCH : gitRemoteBranch(path));
  if (created) {
    mkdirSync(join(home, 'git'), { recursive: true, mode: 0o700 });
    git(['init', '-q', '--bare', path]);
  }
  git(['--git-dir', path, 'config', 'paasmaker.branch', branch]);
  // A clone of the repository checks out the branch that deploys.
  git(['--git-dir', path, 'symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
  writeHook(join(path, 'hooks', 'pre-receive'), home, options.hook);
  return { path, created, branch };
}

/** The branch whose pushes deploy: paasmaker.branch in the repository's config (main when unset). */
export function gitRemoteBranch(path: string): string {
  try {
    return git(['--git-dir', path, 'config', '--get', 'paasmaker.branch']).trim() || DEFAULT_DEPLOY_BRANCH;
  } catch (error) {
    // `git config --get` exits 1 for a key that is not set.
    if ((error as { status?: number }).status === 1) return DEFAULT_DEPLOY_BRANCH;
    throw error;
  }
}

/** Every word single-quoted: the hook runs exactly this argv, whatever its characters. */
export function hookScript(home: string, argv: readonly string[]): string {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  return [
    '#!/bin/sh',
    '# Written by `paasmaker git init`, rewritten each time it runs: each push is deployed by Paasmaker.',
    `PAASMAKER_HOME=${quote(home)}`,
    'export PAASMAKER_HOME',
    `exec ${argv.map(quote).join(' ')}`,
    '',
  ].join('\n');
}

function writeHook(file: string, home: string, argv: readonly string[]): void {
  mkdirSync(join(file, '..'), { recursive: true });
  const partial = `${file}.partial`;
  writeFileSync(partial, hookScript(home, argv), { mode: 0o755 });
  chmodSync(partial, 0o755);
  renameSync(partial, file);
}

function checkBranch(branch: string): void {
  let valid = !branch.startsWith('-');
  if (valid) {
    try {
      git(['check-ref-format', '--branch', branch]);
    } catch {
      valid = false;
    }
  }
  if (!valid) throw new PaasmakerError('USAGE', `"${branch}" is not a branch name git accepts`, { hint: 'for example: main' });
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', GIT_DIR: undefined } });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw toolMissing('git');
    throw error;
  }
}
