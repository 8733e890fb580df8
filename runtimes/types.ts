import type { z } from 'zod';
import type { ResolvedInstance, ResolvedManifest } from '../src/shared/manifest.js';

/**
 * A runtime plugin says how an instance of a manifest is prepared and started.
 * One object per runtime, one line in the registry.
 */
export interface RuntimeContext {
  manifest: ResolvedManifest;
  instance: ResolvedInstance;
  /** PAASMAKER_HOME. */
  home: string;
  /** The environment Paasmaker itself runs with (for PATH, HOME, ...). */
  env: NodeJS.ProcessEnv;
}

export interface RuntimePlan {
  /** Human-readable: "node v20.20.2 (/usr/bin/node)". */
  description: string;
  /** Folders to put in front of PATH for prepare, startup and the instance. */
  pathPrepend: string[];
  /** Extra environment for prepare, startup and the instance (VIRTUAL_ENV, ...). */
  env: Record<string, string>;
  /** The runtime's own prepare steps (create a venv, install requirements), run before the manifest's. */
  prepare: string[];
  /** Absolute files whose contents decide whether prepare must run again (lockfiles, requirements.txt). */
  fingerprintFiles: string[];
  /**
   * Absolute files the runtime's own prepare leaves behind (node_modules/.package-lock.json):
   * while one is missing (a fresh clone, a deleted node_modules) prepare runs again, even if
   * nothing in fingerprintFiles changed.
   */
  preparedMarkers?: string[];
  /** The launch command (shell). Undefined for the static runtime. */
  command?: string;
  /** Static runtime: the folder the platform serves itself. */
  serve?: { root: string };
  /**
   * Set by the platform, not a runtime: the known development server the
   * command runs (Vite) and the words added to it (`--port $PORT ...`).
   */
  portFlags?: { server: string; added: string[] };
  /** What prepare makes for this project outside its folder, under PAASMAKER_HOME (a virtualenv): removed with a deployed version that is pruned. */
  outside?: string[];
}

export interface RuntimeVersion {
  version: string;
  /** Folder holding the interpreter binary. */
  binDir: string;
  /** Where it came from: PATH, nvm, fnm, volta, pyenv, paasmaker (installed by Paasmaker under PAASMAKER_HOME/runtimes), ... */
  source: string;
}

/** What a runtime's install may use, and where it tells its progress. */
export interface InstallContext {
  /** PAASMAKER_HOME: installs go to runtimes/<name>/<version>/ under it. */
  home: string;
  /** The environment Paasmaker runs with (PATH, the package manager's configuration such as npm_config_registry). */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** One line of progress (resolving, downloading 12 of 40 MB, verifying), for the install's job. */
  progress: (line: string) => void;
}

/** An install's outcome: the version, and whether this call downloaded it (false: it was there, or another asker installed it). */
export interface RuntimeInstall extends RuntimeVersion {
  downloaded: boolean;
}

export interface RuntimePlugin {
  name: string;
  /**
   * The runtime's own keys in a manifest's runtime map, beside name and version
   * (`runtime: {name: php, document_root: public}`): checked, with positions, when
   * the manifest is read; the plan finds them parsed in `instance.runtime.options`.
   * A strict object: a key it does not list is an error.
   */
  options?: z.ZodObject;
  /**
   * The runtime can start an instance without a `command` (PHP's built-in server):
   * the manifest may leave it out, and plan() supplies one or says why it cannot.
   */
  defaultCommand?: boolean;
  /** Resolves the plan for an instance, or throws a PaasmakerError (RUNTIME_MISSING / RUNTIME_VERSION) naming what to install. */
  plan(ctx: RuntimeContext): Promise<RuntimePlan>;
  /** Installed versions this runtime can use (home: PAASMAKER_HOME, whose runtimes/<name>/ holds the versions Paasmaker installed). */
  versions(env: NodeJS.ProcessEnv, home: string): Promise<RuntimeVersion[]>;
  /**
   * For a runtime whose versions Paasmaker can fetch itself: installs the
   * newest release matching range into PAASMAKER_HOME/runtimes/<name>/<version>/
   * (nothing to do when it is there). plan() throws RuntimeNotInstalled when
   * no installed version fits; the platform then installs (a job) and plans
   * again. Throws a PaasmakerError saying what to install by hand when it
   * cannot (offline, the registry unreachable, an integrity mismatch).
   */
  install?(range: string, ctx: InstallContext): Promise<RuntimeInstall>;
  /** What to do about a crash, read from the process's last lines (a module not installed); undefined when they say nothing this runtime knows. */
  crashHint?(lines: string[], directory: string): string | undefined;
}
