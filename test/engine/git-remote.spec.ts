import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGitRemote, gitRemoteBranch } from '../../src/engine/git-remote.js';
import { PaasmakerError } from '../../src/shared/errors.js';
import { commitAll, git, gitOutput, initRepo, tempFolder } from '../helpers/git-repo.js';

// `paasmaker git init APP`: a bare repository in PAASMAKER_HOME whose
// pre-receive hook hands each push to Paasmaker.

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** git push, as a user runs it: what it printed, and whether the push went through. */
function push(repo: string, remote: string, refspec = 'main'): { ok: boolean; output: string } {
  const { status, output } = gitOutput(repo, ['push', remote, refspec]);
  return { ok: status === 0, output };
}

describe('an app\'s git remote', () => {
  it('a push runs the hook with the pushed refs on its stdin and PAASMAKER_HOME set, even a home with quotes and spaces', async () => {
    const root = tempFolder('pm-remote-', cleanups);
    const home = join(root, "it's a \"home\" $HOME");
    const remote = createGitRemote({ home, app: 'shop', hook: ['sh', '-c', 'cat > marker; printf "%s" "$PAASMAKER_HOME" > home-seen; echo "deploying $0"', 'shop'] });
    expect(remote).toEqual({ path: join(home, 'git', 'shop.git'), created: true, branch: 'main' });
    expect(statSync(join(remote.path, 'hooks', 'pre-receive')).mode & 0o777).toBe(0o755);
    const repo = initRepo(join(root, 'work'));
    const commit = commitAll(repo, { 'server.js': 'hi\n' }, 'First');
    const pushed = push(repo, remote.path);
    expect(pushed.ok).toBe(true);
    expect(pushed.output).toContain('remote: deploying shop');
    expect(readFileSync(join(remote.path, 'marker'), 'utf8')).toBe(`${'0'.repeat(40)} ${commit} refs/heads/main\n`);
    expect(readFileSync(join(remote.path, 'home-seen'), 'utf8')).toBe(home);
  });

  it('a hook that fails rejects the push, and the branch is not updated', async () => {
    const root = tempFolder('pm-remote-', cleanups);
    const remote = createGitRemote({ home: join(root, 'home'), app: 'shop', hook: ['sh', '-c', 'echo "the deploy failed" >&2; exit 1'] });
    const repo = initRepo(join(root, 'work'));
    commitAll(repo, { 'server.js': 'hi\n' }, 'First');
    const pushed = push(repo, remote.path);
    expect(pushed.ok).toBe(false);
    expect(pushed.output).toContain('remote: the deploy failed');
    expect(pushed.output).toContain('pre-receive hook declined');
    expect(git(remote.path, ['for-each-ref'])).toBe('');
  });

  it('running it again keeps the pushed commits, rewrites the hook and changes the branch only when told', async () => {
    const root = tempFolder('pm-remote-', cleanups);
    const home = join(root, 'home');
    const first = createGitRemote({ home, app: 'shop', hook: ['true'] });
    const repo = initRepo(join(root, 'work'));
    const commit = commitAll(repo, { 'server.js': 'hi\n' }, 'First');
    expect(push(repo, first.path).ok).toBe(true);

    const again = createGitRemote({ home, app: 'shop', branch: 'production', hook: ['sh', '-c', 'echo new hook'] });
    expect(again).toEqual({ path: first.path, created: false, branch: 'production' });
    expect(git(first.path, ['rev-parse', 'refs/heads/main']).trim()).toBe(commit);
    expect(readFileSync(join(first.path, 'hooks', 'pre-receive'), 'utf8')).toContain("exec 'sh' '-c' 'echo new hook'");
    expect(gitRemoteBranch(first.path)).toBe('production');
    expect(git(first.path, ['symbolic-ref', 'HEAD']).trim()).toBe('refs/heads/production');

    expect(createGitRemote({ home, app: 'shop', hook: ['true'] })).toEqual({ path: first.path, created: false, branch: 'production' });
    expect(gitRemoteBranch(first.path)).toBe('production');
  });

  it('refuses an app name that is not one, and a branch git would not accept', () => {
    const root = tempFolder('pm-remote-', cleanups);
    const home = join(root, 'home');
    for (const app of ['../etc', 'Shop', '', 'a b']) {
      expect(() => createGitRemote({ home, app, hook: ['true'] })).toThrow(PaasmakerError);
    }
    expect(() => createGitRemote({ home, app: 'shop', branch: 'a b', hook: ['true'] })).toThrow(/"a b" is not a branch name/);
    expect(() => createGitRemote({ home, app: 'shop', branch: '--force', hook: ['true'] })).toThrow(/is not a branch name/);
    expect(existsSync(join(home, 'git', 'shop.git'))).toBe(false);
  });

  it('a repository without paasmaker.branch deploys main', () => {
    const root = tempFolder('pm-remote-', cleanups);
    const bare = join(root, 'plain.git');
    git(root, ['init', '-q', '--bare', bare]);
    expect(gitRemoteBranch(bare)).toBe('main');
  });
});
