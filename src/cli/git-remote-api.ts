import { PaasmakerError } from '../shared/errors.js';

/**
 * The engine's git remotes (src/engine/git-remote.ts), loaded when a git
 * command runs: createGitRemote makes PAASMAKER_HOME/git/APP.git (bare, its
 * hook running `hook`), gitRemoteBranch reads the branch it deploys.
 */
export interface GitRemotes {
  createGitRemote(options: { home: string; app: string; branch: string; hook: string[] }): { path: string; created: boolean; branch: string } | Promise<{ path: string; created: boolean; branch: string }>;
  gitRemoteBranch(path: string): string | Promise<string>;
}

export async function gitRemotes(): Promise<GitRemotes> {
  const engine = (await import('../engine/index.js')) as unknown as Partial<GitRemotes>;
  if (!engine.createGitRemote || !engine.gitRemoteBranch) throw new PaasmakerError('USAGE', 'git remotes are not available in this build of Paasmaker');
  return engine as GitRemotes;
}
