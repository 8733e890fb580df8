import { spawn, type ChildProcess } from 'node:child_process';
import type { DiskSpace } from '../shared/disk-space.js';
import type { Keeper } from './keeper.js';
import { LineSplitter } from './line-splitter.js';
import { LogFile } from './log-file.js';
import { listeningSockets, portHolder, socketText } from '../shared/port-holder.js';
import { belongsTo, groupMembers, killGroup, processStartTime, signalGroup } from './proc.js';
import { probe } from './readiness.js';
import type { JournalEntry, LogLine, ProcessInfo, ProcessSpec, ProcessState } from './types.js';

export interface ProcessHooks {
  keeper?: Keeper;
  space?: DiskSpace;
  backoff: { initialMs: number; maxMs: number; resetAfterMs: number };
  readinessPollMs: number;
  onState(info: ProcessInfo, previous: ProcessState): void;
  onLine(line: LogLine): void;
  onSpawn(entry: JournalEntry): void;
  onExit(entry: JournalEntry & { code: number | null; signal: string | null }): void;
  onUnresponsive(info: ProcessInfo, reason: string): void;
}

const TAIL = 200;

/** One supervised slot: launches, watches readiness, restarts with backoff, stops with escalation. */
export class ManagedProcess {
  readonly info: ProcessInfo;
  private readonly log: LogFile;
  private readonly recent: LogLine[] = [];
  private child: ChildProcess | undefined;
  private childExited: Promise<void> = Promise.resolve();
  private generation = 0;
  private delayMs: number;
  /** Restarts since the last stretch of health, for max_restarts. */
  private restartsInRow = 0;
  private timers = new Set<NodeJS.Timeout>();
  private stopping = false;
  /** Why liveness stopped the current process, which then counts as a crash. */
  private unresponsive: string | undefined;
  /** Why readiness gave up on the current process, which then counts as a crash. */
  private notReady: string | undefined;
  private launchedAt = 0;

  constructor(
    readonly spec: ProcessSpec,
    private readonly hooks: ProcessHooks,
  ) {
    this.info = { id: spec.id, state: 'stopped', port: spec.port, restarts: 0 };
    this.log = new LogFile(spec.logFile, { space: hooks.space });
    this.delayMs = hooks.backoff.initialMs;
  }

  tail(n: number): LogLine[] {
    return this.recent.slice(-n);
  }

  start(): void {
    this.stopping = false;
    void this.launch();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.generation++;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null && child.pid) {
      this.setState('stopping');
      await killGroup(child.pid, this.spec.stopGraceMs ?? 5000, this.spec.stopSignal);
      await this.childExited;
    }
    if (this.info.state !== 'stopped') this.setState('stopped', { pid: undefined, runningSince: undefined, nextRestartAt: undefined });
    await this.log.close();
  }

  private async launch(): Promise<void> {
    const generation = ++this.generation;
    this.unresponsive = undefined;
    this.notReady = undefined;
    this.setState('starting', { pid: undefined, runningSince: undefined, nextRestartAt: undefined });
    for (const command of this.spec.startup ?? []) {
      this.system(`startup: ${command}`);
      const { code, signal } = await this.run(command, false);
      if (generation !== this.generation) return;
      if (code !== 0) {
        this.failed(`startup command failed (${signal ? `killed by ${signal}` : `exit code ${code}`})`, code, signal);
        return;
      }
    }
    if (generation !== this.generation) return;
    this.launchedAt = Date.now();
    const exit = this.run(this.spec.command, true);
    if (this.spec.port === undefined) {
      this.setState('running', { runningSince: Date.now() });
      this.armReset(generation);
    } else {
      void this.awaitReady(generation);
    }
    const { code, signal } = await exit;
    if (generation !== this.generation || this.stopping) return;
    this.failed(this.unresponsive ?? this.notReady ?? (signal ? `was killed by ${signal}` : `exited with code ${code}`), code, signal);
  }

  /** Spawns a command in its own process group; resolves when its leader exits (what is left of the group is killed). */
  private run(command: string, main: boolean): Promise<{ code: number | null; signal: string | null }> {
    const child = spawn('/bin/sh', ['-c', main ? execSimple(command) : command], {
      cwd: this.spec.cwd,
      env: this.spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.spec.user ? { uid: this.spec.user.uid, gid: this.spec.user.gid } : {}),
    });
    const pid = child.pid;
    const entry: JournalEntry | undefined = pid
      ? { id: this.spec.id, pid, pgid: pid, startTime: processStartTime(pid) ?? '', command, port: main ? this.spec.port : undefined }
      : undefined;
    if (pid) {
      this.hooks.keeper?.add(pid);
      this.hooks.onSpawn(entry!);
    }
    if (main) {
      this.child = child;
      this.info.pid = pid;
    }
    const out = new LineSplitter((line) => this.line('out', line));
    const err = new LineSplitter((line) => this.line('err', line));
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdout!.once('close', () => out.flush());
    child.stderr!.once('close', () => err.flush());
    // A pipe that fails (EIO, say) loses output, never the platform.
    child.stdout!.on('error', (error) => this.system(`its output could not be read: ${error.message}`));
    child.stderr!.on('error', (error) => this.system(`its error output could not be read: ${error.message}`));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once('error', (error) => {
        this.system(`could not start: ${error.message}`);
        resolve({ code: 127, signal: null });
      });
      child.once('exit', (code, signal) => {
        if (pid) {
          // Nothing of a process may outlive it: a grandchild would keep its port.
          if (groupMembers(pid).length > 0) signalGroup(pid, 'SIGKILL');
          this.hooks.keeper?.remove(pid);
          this.hooks.onExit({ ...entry!, code, signal });
        }
        resolve({ code, signal });
      });
    });
    if (main) this.childExited = exited.then(() => undefined);
    return exited;
  }

  /** The program listening on this process's port when it is not one of this process's own (undefined when ours, or unknown: no /proc). */
  private stranger(): { pid: number; command: string } | undefined {
    const root = this.child?.pid;
    if (root === undefined) return undefined;
    // The usual answer, cheaply: the process's own group listens there (the whole machine is read only otherwise).
    if (listeningSockets(groupMembers(root)).some((socket) => socket.port === this.spec.port)) return undefined;
    const holder = portHolder(this.spec.port!);
    return holder && !belongsTo(holder.pid, root) ? holder : undefined;
  }

  private async awaitReady(generation: number): Promise<void> {
    const timeoutMs = (this.spec.health?.timeout ?? 10) * 1000;
    const deadline = Date.now() + timeoutMs;
    // Another program listening on the port given to this process (taken between its choice and this start):
    // its answers are not this process's, so it is not ready, and the reason names that program.
    let stranger: { pid: number; command: string } | undefined;
    while (generation === this.generation && !this.stopping) {
      if ((await probe(this.spec.port!, this.spec.health?.path)) && (await (this.spec.ready?.() ?? true)) && !(stranger = this.stranger())) {
        if (generation !== this.generation || this.stopping) return;
        this.setState('running', { runningSince: Date.now(), readyAfterMs: Date.now() - this.launchedAt, notReady: undefined });
        this.armReset(generation);
        this.watchLiveness(generation);
        return;
      }
      if (Date.now() >= deadline) {
        if (generation !== this.generation) return;
        const what = stranger
          ? `port ${this.spec.port} is held by another program (pid ${stranger.pid}: ${stranger.command}), not by this process`
          : this.spec.health?.path
            ? `${this.spec.health.path} did not answer below 500`
            : `nothing accepted connections on port ${this.spec.port}`;
        // What the group listens on instead is read before it is killed: the likely fix when it is another port.
        const listening = this.child?.pid ? listeningSockets(groupMembers(this.child.pid)) : [];
        this.info.notReady = { afterMs: timeoutMs, listening };
        const instead = listening.length > 0 ? ` (it listens on ${listening.map(socketText).join(', ')})` : '';
        // Also the reason its exit gives, as liveness does.
        this.notReady = `not ready after ${timeoutMs / 1000} s: ${what}${instead}`;
        this.system(`${this.notReady}; stopping it`);
        if (this.child?.pid) signalGroup(this.child.pid, 'SIGKILL');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, readinessWait(Date.now() - this.launchedAt, this.hooks.readinessPollMs)));
    }
  }

  /**
   * Once running, the health check goes on every `interval` seconds; after
   * `failures` failed checks in a row the process is stopped (stop signal,
   * then SIGKILL after the grace) and restarted like a crash. A check fails
   * when it takes longer than the interval (at most 5 s), so a hung process is
   * found within about interval × failures.
   */
  private watchLiveness(generation: number): void {
    const health = this.spec.health;
    if (this.spec.port === undefined || !health?.interval) return;
    const port = this.spec.port;
    const intervalMs = health.interval * 1000;
    const limit = health.failures ?? 3;
    const current = () => generation === this.generation && !this.stopping && this.info.state === 'running';
    let failed = 0;
    const check = async (): Promise<void> => {
      if (!current()) return;
      const began = Date.now();
      const answered = await probe(port, health.path, Math.min(intervalMs, 5000));
      if (!current()) return;
      failed = answered ? 0 : failed + 1;
      if (failed < limit) {
        this.timer(() => void check(), Math.max(0, intervalMs - (Date.now() - began)));
        return;
      }
      const what = health.path ? `not answering ${health.path}` : `not accepting connections on port ${port}`;
      this.unresponsive = `${what} (${limit} ${limit === 1 ? 'check' : 'checks'})`;
      this.system(`${this.unresponsive}; stopping it`);
      this.hooks.onUnresponsive({ ...this.info }, this.unresponsive);
      if (this.child?.pid) void killGroup(this.child.pid, this.spec.stopGraceMs ?? 5000, this.spec.stopSignal);
    };
    this.timer(() => void check(), intervalMs);
  }

  /** After a stretch of health, the next crash starts the backoff from the beginning again. */
  private armReset(generation: number): void {
    this.timer(() => {
      if (generation !== this.generation || this.info.state !== 'running') return;
      this.delayMs = this.hooks.backoff.initialMs;
      this.restartsInRow = 0;
    }, this.hooks.backoff.resetAfterMs);
  }

  private failed(reason: string, code: number | null, signal: string | null): void {
    this.info.lastExit = { code, signal, at: Date.now(), reason };
    this.child = undefined;
    const policy = this.spec.restart ?? 'always';
    // A process stopped for not answering failed, whatever its exit code.
    const clean = code === 0 && !signal && this.unresponsive === undefined;
    if (policy === 'never' || (policy === 'on-failure' && clean)) {
      this.system(`${reason}; not restarting`);
      this.setState(clean ? 'exited' : 'crashed', { pid: undefined, runningSince: undefined });
      return;
    }
    const limit = this.spec.maxRestarts;
    if (limit !== undefined && this.restartsInRow >= limit) {
      this.system(`${reason}; not restarting: ${limit} ${limit === 1 ? 'restart' : 'restarts'} in a row (max_restarts)`);
      this.setState('crashed', { pid: undefined, runningSince: undefined });
      return;
    }
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.hooks.backoff.maxMs);
    this.system(`${reason}; restarting in ${formatDelay(delay)}`);
    this.setState('backoff', { pid: undefined, runningSince: undefined, nextRestartAt: Date.now() + delay });
    const generation = this.generation;
    this.timer(() => {
      if (generation !== this.generation || this.stopping) return;
      this.info.restarts++;
      this.restartsInRow++;
      void this.launch();
    }, delay);
  }

  private timer(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private setState(state: ProcessState, patch: Partial<ProcessInfo> = {}): void {
    const previous = this.info.state;
    Object.assign(this.info, patch);
    for (const key of Object.keys(patch) as (keyof ProcessInfo)[]) if (patch[key] === undefined) delete this.info[key];
    this.info.state = state;
    this.hooks.onState({ ...this.info }, previous);
  }

  private line(stream: 'out' | 'err', text: string): void {
    const line: LogLine = { id: this.spec.id, stream, line: text, time: Date.now() };
    this.remember(line);
    this.log.write(stream, text, line.time);
    this.hooks.onLine(line);
  }

  private system(text: string): void {
    const line: LogLine = { id: this.spec.id, stream: 'system', line: text, time: Date.now() };
    this.remember(line);
    this.log.write('sys', text, line.time);
    this.hooks.onLine(line);
  }

  private remember(line: LogLine): void {
    this.recent.push(line);
    if (this.recent.length > TAIL) this.recent.shift();
  }
}

/**
 * A simple command (no pipes, lists or redirections) is exec'd by the shell,
 * so the supervised pid is the app itself, and signals reach it directly.
 */
export function execSimple(command: string): string {
  return /^[^;&|<>`()\n]+$/.test(command) && !/^\s*exec\s/.test(command) ? `exec ${command.trim()}` : command;
}

function formatDelay(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`;
}

/**
 * How long to wait before probing a starting process again: every 5 ms in its
 * first second (most apps listen within it, and a reload's switch waits on
 * this), then the supervisor's interval, then at most 4× that (10 s of a slow
 * start is 400 probes, not 2,000). A refused connection costs next to nothing.
 */
export function readinessWait(sinceLaunchMs: number, pollMs: number): number {
  if (sinceLaunchMs < 1000) return Math.min(5, pollMs);
  if (sinceLaunchMs < 3000) return pollMs;
  return Math.max(pollMs, Math.min(pollMs * 4, 100));
}
