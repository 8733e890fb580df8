import { EventEmitter } from 'node:events';
import type { DiskSpace } from '../shared/disk-space.js';
import type { Keeper } from './keeper.js';
import { ManagedProcess } from './managed-process.js';
import { ENDED, type LogLine, type ProcessInfo, type ProcessSpec, type SupervisorEvents } from './types.js';

export interface SupervisorOptions {
  keeper?: Keeper;
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  readinessPollMs?: number;
  /** Told when a log write fails for want of space (see LogFile). */
  space?: DiskSpace;
}

/** Runs ProcessSpecs, each in its own process group, and reports through events. Knows processes, not apps. */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly processes = new Map<string, ManagedProcess>();

  constructor(private readonly options: SupervisorOptions = {}) {
    super();
  }

  start(spec: ProcessSpec): void {
    const existing = this.processes.get(spec.id);
    if (existing && !ENDED.has(existing.info.state)) {
      throw new Error(`process ${spec.id} is already supervised (${existing.info.state})`);
    }
    const process = new ManagedProcess(spec, {
      keeper: this.options.keeper,
      space: this.options.space,
      backoff: {
        initialMs: this.options.backoff?.initialMs ?? 1000,
        maxMs: this.options.backoff?.maxMs ?? 30_000,
        resetAfterMs: this.options.backoff?.resetAfterMs ?? 30_000,
      },
      readinessPollMs: this.options.readinessPollMs ?? 25,
      onState: (info, previous) => this.emit('state', info, previous),
      onLine: (line) => this.emit('line', line),
      onSpawn: (entry) => this.emit('spawn', entry),
      onExit: (entry) => this.emit('exit', entry),
      onUnresponsive: (info, reason) => this.emit('unresponsive', info, reason),
    });
    this.processes.set(spec.id, process);
    process.start();
  }

  async stop(id: string): Promise<void> {
    await this.processes.get(id)?.stop();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.values()].map((process) => process.stop()));
  }

  async restart(id: string): Promise<void> {
    const process = this.processes.get(id);
    if (!process) throw new Error(`no process ${id}`);
    await process.stop();
    process.start();
  }

  /** Forgets a stopped process. */
  remove(id: string): void {
    const process = this.processes.get(id);
    if (process && !ENDED.has(process.info.state)) throw new Error(`process ${id} is still ${process.info.state}`);
    this.processes.delete(id);
  }

  info(id: string): ProcessInfo | undefined {
    const process = this.processes.get(id);
    return process ? { ...process.info } : undefined;
  }

  list(): ProcessInfo[] {
    return [...this.processes.values()].map((process) => ({ ...process.info }));
  }

  tail(id: string, n = 20): LogLine[] {
    return this.processes.get(id)?.tail(n) ?? [];
  }
}
