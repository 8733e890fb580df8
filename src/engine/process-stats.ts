import { CLOCK_TICKS, groupUsage, type GroupUsage, type Supervisor } from '../supervisor/index.js';
import type { EventSink, ProcessSample } from './events.js';
import type { Lifecycle } from './lifecycle.js';
import type { RunningApp } from './running-app.js';

/** How often the apps' processes are sampled. */
export const SAMPLE_EVERY_MS = 2000;

export interface ProcessStatsParts {
  supervisor: Supervisor;
  running: Map<string, RunningApp>;
  life: Lifecycle;
  events: EventSink;
}

/** CPU and memory of one process slot, as listings show them. */
export interface Usage {
  cpu: number | null;
  memory: number | null;
}

/** The previous round of a process group: when, and each member's CPU ticks then. */
interface Previous {
  pgid: number;
  at: number;
  ticks: Map<number, number>;
}

/** CPU ticks spent since the previous round: a member seen then counts its growth, one born since counts all of its own. */
function ticksSince(now: GroupUsage, previous: Previous): number {
  let spent = 0;
  for (const [pid, ticks] of now.ticks) spent += Math.max(0, ticks - (previous.ticks.get(pid) ?? 0));
  return spent;
}

/**
 * CPU and memory of every process the apps run, summed over its process
 * group (a shell's children, a server's workers), sampled every ~2 s from
 * /proc in one pass: kept for the listings (GET /api/v1/processes) and sent
 * out as a `process.stats` event per app. Where /proc is absent it never
 * samples, and listings say null.
 */
export class ProcessStats {
  /** "shop/web.0" → its slot's latest usage. */
  private readonly latest = new Map<string, Usage & { pid: number }>();
  /** Supervisor key → the previous round of its process group. */
  private readonly previous = new Map<string, Previous>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly parts: ProcessStatsParts) {}

  start(everyMs = SAMPLE_EVERY_MS): void {
    if (this.timer || groupUsage(new Set()) === undefined) return;
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A slot's usage as last sampled, while it runs the same pid; nulls when unknown. */
  of(app: string, instance: string, index: number, pid: number | null): Usage {
    const usage = this.latest.get(`${app}/${instance}.${index}`);
    return usage && usage.pid === pid ? { cpu: usage.cpu, memory: usage.memory } : { cpu: null, memory: null };
  }

  /** One round: every slot's current process, one pass over /proc, an event per app. */
  sample(): void {
    const { supervisor, running, life, events } = this.parts;
    if (life.closed) return;
    const slots: Array<{ app: string; instance: string; index: number; key: string; pid: number }> = [];
    for (const [app, run] of running) {
      for (const [slot, key] of run.slots) {
        const pid = supervisor.info(key)?.pid;
        const dot = slot.lastIndexOf('.');
        if (pid) slots.push({ app, instance: slot.slice(0, dot), index: Number(slot.slice(dot + 1)), key, pid });
      }
    }
    const usage = groupUsage(new Set(slots.map((slot) => slot.pid)));
    if (!usage) return;
    const at = Date.now();
    const rounds = new Map<string, ProcessSample[]>();
    this.latest.clear();
    const seen = new Set<string>();
    for (const slot of slots) {
      const group = usage.get(slot.pid);
      if (!group) continue;
      seen.add(slot.key);
      const previous = this.previous.get(slot.key);
      const cpu = previous && previous.pgid === slot.pid && at > previous.at ? Math.round((ticksSince(group, previous) / CLOCK_TICKS / ((at - previous.at) / 1000)) * 1000) / 10 : null;
      this.previous.set(slot.key, { pgid: slot.pid, at, ticks: group.ticks });
      this.latest.set(`${slot.app}/${slot.instance}.${slot.index}`, { pid: slot.pid, cpu, memory: group.rss });
      const samples = rounds.get(slot.app) ?? [];
      samples.push({ instance: slot.instance, index: slot.index, pid: slot.pid, cpu, memory: group.rss });
      rounds.set(slot.app, samples);
    }
    // Processes gone since: their rounds go with them.
    for (const key of this.previous.keys()) if (!seen.has(key)) this.previous.delete(key);
    for (const [app, samples] of rounds) events.emit('process.stats', { app, at, samples });
  }
}
