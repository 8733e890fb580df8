/**
 * The supervisor knows processes, not apps. The engine hands it ProcessSpecs
 * and listens to its events; it never touches state.db (the engine journals).
 */

/**
 * `exited`: ended by itself with code 0 and not restarted (its policy says so);
 * `crashed`: failed and not restarted (its policy, or max_restarts reached).
 * Both stay until the process is stopped or started again.
 */
export type ProcessState = 'starting' | 'running' | 'backoff' | 'crashed' | 'exited' | 'stopping' | 'stopped';

/** The states a process stays in until it is told otherwise. */
export const ENDED: ReadonlySet<ProcessState> = new Set(['crashed', 'exited', 'stopped']);

export interface ProcessSpec {
  /** Unique key, e.g. "shop/web.0". */
  id: string;
  /** Launch command, run as `/bin/sh -c command` in its own process group. */
  command: string;
  /** Run in order, each to completion, before every launch; a failure counts as a failed start. */
  startup?: string[];
  cwd: string;
  /** The complete environment of the process (the supervisor adds nothing). */
  env: Record<string, string>;
  /** When set, readiness is a TCP accept on 127.0.0.1:port (or health.path answering < 500). */
  port?: number;
  /**
   * Readiness: `timeout` seconds to become ready. Liveness, once running: a
   * check every `interval` seconds (when set), and `failures` failed checks in
   * a row stop the process (SIGTERM, then SIGKILL) to restart it like a crash.
   */
  health?: { path?: string; timeout: number; interval?: number; failures?: number };
  /** Readiness beyond the port: the process answers (a database accepts queries only once its crash recovery ends). */
  ready?: () => Promise<boolean>;
  /** Milliseconds between the stop signal and SIGKILL. Default 5000. */
  stopGraceMs?: number;
  /** The signal that asks the process to stop. Default SIGTERM (PostgreSQL's fast shutdown is SIGINT). */
  stopSignal?: NodeJS.Signals;
  /** Run as this user (a platform running as root starts database servers unprivileged). */
  user?: { uid: number; gid: number };
  /** Every output line is appended here as `<ISO time> <out|err> <line>`. */
  logFile: string;
  /** Default 'always'. `on-failure` and `never` leave a clean exit (code 0) `exited`. */
  restart?: RestartPolicy;
  /**
   * Restarts in a row after which a failing process ends `crashed` instead
   * (a stretch of health, `backoff.resetAfterMs`, starts the count again).
   * Undefined: no limit.
   */
  maxRestarts?: number;
}

export type RestartPolicy = 'always' | 'on-failure' | 'never';

export interface ProcessInfo {
  id: string;
  state: ProcessState;
  pid?: number;
  pgid?: number;
  /** Start time of the pid as the kernel tells it (clock ticks since boot on Linux), to tell a recycled pid apart. */
  startTime?: string;
  port?: number;
  /** Restarts since the spec was started. */
  restarts: number;
  /** Epoch ms when the current process became running. */
  runningSince?: number;
  /** Epoch ms of the next restart while in backoff. */
  nextRestartAt?: number;
  /** How the last run ended; `reason` says it in words ("exited with code 3", "not answering /healthz (3 checks)"). */
  lastExit?: { code: number | null; signal: string | null; at: number; reason: string };
  /** How long the last start that became ready took, in ms. */
  readyAfterMs?: number;
  /** The last start was stopped for not becoming ready within its timeout: what its process group listened on instead. Cleared once it runs. */
  notReady?: { afterMs: number; listening: Array<{ address: string; port: number }> };
}

export interface LogLine {
  id: string;
  stream: 'out' | 'err' | 'system';
  line: string;
  time: number;
}

export interface SupervisorEvents {
  /** A state change; `previous` is the state before. */
  state: [info: ProcessInfo, previous: ProcessState];
  /** One complete output line (also written to the log file). */
  line: [line: LogLine];
  /** A process (launch or startup command) was spawned: journal it. */
  spawn: [entry: JournalEntry];
  /** A spawned process's group is gone: remove it from the journal. */
  exit: [entry: JournalEntry & { code: number | null; signal: string | null }];
  /** A running process stopped answering its liveness checks and is being restarted. */
  unresponsive: [info: ProcessInfo, reason: string];
}

/** What the engine records so a later start can reap leftovers safely. */
export interface JournalEntry {
  id: string;
  pid: number;
  pgid: number;
  startTime: string;
  command: string;
  port?: number;
}
