import { ownerAlive, type Owner } from '../shared/owner.js';
import type { State } from '../state/index.js';
import { reapLeftovers, type JournalEntry, type Supervisor } from '../supervisor/index.js';
import type { Lifecycle } from './lifecycle.js';

export interface ReapReport {
  reaped: number;
  recycled: number;
  gone: number;
}

export interface LeftoverParts {
  state: State;
  supervisor: Supervisor;
  owner: Owner;
  life: Lifecycle;
}

/**
 * What outlives a platform: every process group it starts is journaled in
 * state.db, so the next platform reaps those a dead one left behind, marks
 * its apps stopped and its jobs aborted.
 */
export class Leftovers {
  /** What the previous run left behind and reap() cleaned up. */
  report: ReapReport = { reaped: 0, recycled: 0, gone: 0 };
  /** Process groups alive now, as journaled: journaled again when a full disk dropped the records. */
  private readonly spawned = new Map<number, JournalEntry>();

  constructor(private readonly parts: LeftoverParts) {
    parts.supervisor.on('spawn', (entry) => {
      this.spawned.set(entry.pid, entry);
      if (parts.life.stateOpen) this.journal(entry);
    });
    parts.supervisor.on('exit', (entry) => {
      this.spawned.delete(entry.pid);
      if (parts.life.stateOpen) parts.state.journal.forget(entry.pid);
    });
  }

  /** Whether a record in state.db was written by this platform. */
  mine(record: { ownerPid: number | null; ownerStart: string | null }): boolean {
    return record.ownerPid === this.parts.owner.pid && record.ownerStart === this.parts.owner.startTime;
  }

  async reap(): Promise<void> {
    const { state, owner } = this.parts;
    const dead = (record: { ownerPid: number | null; ownerStart: string | null }) => record.ownerPid !== owner.pid && !ownerAlive(record.ownerPid, record.ownerStart);
    // Jobs a dead platform was running can never finish: say so.
    for (const job of state.jobs.unfinished()) {
      if (dead(job)) state.jobs.setState(job.id, 'aborted', `paasmaker (pid ${job.ownerPid}) stopped while it ran`);
    }
    const stale = state.journal.list().filter(dead);
    if (stale.length > 0) {
      const entries: JournalEntry[] = stale.map((entry) => ({
        id: entry.processId,
        pid: entry.pid,
        pgid: entry.pgid,
        startTime: entry.startTime,
        command: entry.command,
        port: entry.port ?? undefined,
      }));
      const result = await reapLeftovers(entries);
      this.report = {
        reaped: this.report.reaped + result.reaped.length,
        recycled: this.report.recycled + result.recycled.length,
        gone: this.report.gone + result.gone.length,
      };
      for (const entry of stale) state.journal.forget(entry.pid);
    }
    for (const app of state.apps.list()) {
      if (app.state !== 'stopped' && dead(app)) {
        state.processes.markStopped(app.name);
        state.apps.release(app.name);
      }
    }
  }

  /** The journal as it is now, written again after a full disk dropped records. */
  rewrite(): void {
    for (const entry of this.parts.state.journal.list()) if (this.mine(entry) && !this.spawned.has(entry.pid)) this.parts.state.journal.forget(entry.pid);
    for (const entry of this.spawned.values()) this.journal(entry);
  }

  private journal(entry: JournalEntry): void {
    const { owner } = this.parts;
    this.parts.state.journal.record({
      pid: entry.pid,
      pgid: entry.pgid,
      startTime: entry.startTime,
      processId: entry.id,
      app: entry.id.split('/')[0] ?? null,
      command: entry.command,
      port: entry.port ?? null,
      ownerPid: owner.pid,
      ownerStart: owner.startTime,
    });
  }
}
