import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Everything the platform writes lives under one folder: PAASMAKER_HOME, or
 * $XDG_STATE_HOME/paasmaker, or ~/.local/state/paasmaker.
 */
export function paasmakerHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PAASMAKER_HOME) return resolve(env.PAASMAKER_HOME);
  const stateHome = env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(homedir(), '.local', 'state');
  return join(stateHome, 'paasmaker');
}

export interface HomeLayout {
  root: string;
  stateDb: string;
  logs: string;
  venvs: string;
  run: string;
  /** Deployed versions' code: versions/<app>/<n>. */
  versions: string;
  /** Bare repositories that deploy on push: git/<app>.git. */
  git: string;
  /** The local certificate authority: root.pem, root-key.pem and leaves/. */
  tls: string;
}

export function homeLayout(root = paasmakerHome()): HomeLayout {
  return {
    root,
    stateDb: join(root, 'state.db'),
    logs: join(root, 'logs'),
    venvs: join(root, 'venvs'),
    run: join(root, 'run'),
    versions: join(root, 'versions'),
    git: join(root, 'git'),
    tls: join(root, 'tls'),
  };
}

/** Creates a folder readable by the owner only. */
export function ensurePrivateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
