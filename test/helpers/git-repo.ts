import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const AUTHOR = { name: 'Ada Lovelace', email: 'ada@example.com' };

/** git as a test runs it: a fixed identity and branch name, nothing from the machine's config or a surrounding hook. */
export function git(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', [...IDENTITY, ...args], { cwd, env: gitEnv(), input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** git run to the end whatever it answers: its exit status and everything it printed (a push's "remote:" lines are on stderr). */
export function gitOutput(cwd: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync('git', [...IDENTITY, ...args], { cwd, env: gitEnv(), encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const IDENTITY = ['-c', `user.name=${AUTHOR.name}`, '-c', `user.email=${AUTHOR.email}`, '-c', 'init.defaultBranch=main'];

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' };
  for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE']) delete env[name];
  return env;
}

/** Writes files (path → content; a content starting with "#!" is made executable) under a folder. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    const path = join(root, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    if (content.startsWith('#!')) chmodSync(path, 0o755);
  }
}

/** Writes files into a work tree and commits everything: the new commit's full id. */
export function commitAll(repo: string, files: Record<string, string>, message: string): string {
  writeFiles(repo, files);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', message]);
  return git(repo, ['rev-parse', 'HEAD']).trim();
}

export function tempFolder(prefix: string, cleanups: Array<() => void>): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function initRepo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q']);
  return dir;
}
