/**
 * The ResolvedManifest is the only shape the rest of Paasmaker reads: plain
 * data, defaults applied, paths absolute. Nothing downstream knows which file
 * (paasmaker.yml, the original manifest.yml, or a Procfile) it came from.
 */

export type ManifestKind = 'paasmaker.yml' | 'manifest.yml' | 'Procfile';

export interface SourcePosition {
  /** Absolute path of the file. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

export type RestartPolicy = 'always' | 'on-failure' | 'never';

/** A name in the runtime registry: node, python, php, ruby, static, shell, ... */
export type RuntimeName = string;

export interface ResolvedRuntime {
  name: RuntimeName;
  /** A semver range as written ("20", ">=20", "^3.11"); undefined when not given. */
  version?: string;
  /**
   * The runtime's own keys from the manifest's runtime map (php's document_root),
   * checked against the plugin's options schema with its defaults applied;
   * undefined for a bare name (`runtime: php`), a Procfile, or a runtime that takes none.
   */
  options?: Record<string, unknown>;
}

export interface ResolvedPrepare {
  /** Shell commands, run in order in the project directory. */
  commands: string[];
  /** Globs (relative to the project) whose contents decide when prepare runs again. */
  watch: string[];
}

export interface ResolvedHealth {
  /** HTTP path that must answer < 500; undefined means "TCP accept is enough". */
  path?: string;
  /** Seconds an instance may take to become ready before its start counts as failed. */
  timeout: number;
  /** Liveness, once ready: seconds between checks. */
  interval: number;
  /** Liveness: failed checks in a row before the process is restarted. */
  failures: number;
}

export interface ResolvedCron {
  name: string;
  schedule: string;
  uri?: string;
  command?: string;
}

/** Where a cluster may run an instance type (a single machine ignores it; `paasmaker export kubernetes` reads it). */
export interface ResolvedPlacement {
  /** Node labels the instance's machines must carry (a Kubernetes nodeSelector): {disk: ssd}. */
  tags: Record<string, string>;
  /** Spread the instance's processes across machines. */
  spread: boolean;
}

export interface ResolvedInstance {
  /** The instance type: web, worker, ... */
  name: string;
  runtime: ResolvedRuntime;
  prepare: ResolvedPrepare;
  /** Commands run before each launch (migrations). */
  startup: string[];
  /** The launch command, run through /bin/sh with $PORT set. Undefined only for the static runtime. */
  command?: string;
  /** Static runtime: absolute folder to serve. */
  root?: string;
  quantity: number;
  hostnames: string[];
  environment: Record<string, string>;
  health: ResolvedHealth;
  /** No port, not routed. */
  standalone: boolean;
  /** false: a known development server's port flag is not added to the command (port_flag: false). Absent: it is. */
  portFlag?: boolean;
  /**
   * Started once these have settled: an instance once it is ready (or has
   * failed), a one-shot once it has completed (exit 0); a failed one-shot
   * keeps its dependents from starting. Services are provisioned first anyway.
   */
  depends_on: string[];
  /** When a process that ended starts again: on-failure (the default), always, or never (a one-shot's default). */
  restart: RestartPolicy;
  /** Restarts in a row after which a failing process is left crashed; undefined: no limit. */
  maxRestarts?: number;
  /** Runs to completion (not routed, not restarted after exit 0): a migration, Heroku's release phase. */
  oneshot: boolean;
  crons: ResolvedCron[];
  watch: { enabled: boolean; ignore: string[] };
  /** Seconds between SIGTERM and SIGKILL when stopping. */
  stopTimeout: number;
  /** Placement on a cluster: `placement` in paasmaker.yml, the original's `tags`. */
  placement: ResolvedPlacement;
  /** Where the instance was declared, for errors found later (e.g. a runtime version). */
  position: SourcePosition;
}

export interface ResolvedService {
  name: string;
  /** Symbolic plugin name: postgres, mysql, redis, sqlite, ... */
  plugin: string;
  options: Record<string, unknown>;
  position: SourcePosition;
}

export interface ResolvedManifest {
  kind: ManifestKind;
  /** Absolute path of the manifest file. */
  file: string;
  /** Absolute project directory. */
  directory: string;
  application: {
    name: string;
    /**
     * The workspace the manifest puts the app in (application.workspace).
     * Absent: the app stays where it is (paasmaker workspace move), a new
     * app goes to "default" — a default written here would undo every move.
     */
    workspace?: string;
  };
  /** In declaration order. */
  instances: ResolvedInstance[];
  services: ResolvedService[];
  /** The instance types asked for by name (`up web`), before their dependencies were added; undefined: all. */
  only?: string[];
  /** Values from the project's .env file (empty when there is none). */
  dotenv: { file?: string; values: Record<string, string> };
  /**
   * Set when the folder is in a git worktree other than its repository's
   * main one: application.name is then "<app>@<label>" (see app-keys.ts),
   * the app's own name is `app`, and its names through the router start
   * with `label`.
   */
  checkout?: { app: string; label: string; branch: string; detached: boolean; worktree: string };
}
