import { ownerAlive } from '../shared/owner.js';
import type { ProcessRecord, State } from '../state/index.js';
import { NO_URLS, type NameUrls } from '../shared/app-urls.js';
import type { ProcessRow, TrafficRow } from '../shared/views.js';

export type { ProcessRow, TrafficRow } from '../shared/views.js';

export function listTraffic(state: State, options: { app?: string; windowSeconds?: number; now?: number } = {}): TrafficRow[] {
  const window = options.windowSeconds ?? 60;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  return state.traffic.summary(now - window + 1, options.app).map((row) => ({
    ...row,
    window,
    rps: Math.round((row.requests / window) * 10) / 10,
  }));
}

/** CPU and memory of a running process, as the platform last sampled them (see ProcessStats). */
export interface ProcessUsage {
  of(app: string, instance: string, index: number, pid: number | null): { cpu: number | null; memory: number | null };
}

/** How long a stopped app stays in the listings after it stopped. */
export const STOPPED_KEPT_MS = 7 * 24 * 3600 * 1000;

/**
 * Process slots as recorded, except that the slots of an app whose owning
 * Paasmaker process is gone (killed, crashed) read as stopped: the keeper
 * took its processes down with it. A stopped slot has no pid and no port
 * (the port went back to the pool); the slots of an app stopped more than
 * a week ago are left out (aged out), and `running` keeps only the apps that run.
 */
export function listProcesses(state: State, options: { app?: string; selfPid?: number; now?: number; running?: boolean; usage?: ProcessUsage; urls?: (app: string, instance: string) => NameUrls } = {}): ProcessRow[] {
  const now = options.now ?? Date.now();
  const apps = new Map(state.apps.list().map((record) => [record.name, record]));
  const rates = new Map(listTraffic(state, { app: options.app, windowSeconds: 5, now }).map((row) => [`${row.app}/${row.instance}`, row.rps]));
  const rows: ProcessRow[] = [];
  for (const record of state.processes.list(options.app) as ProcessRecord[]) {
    const app = apps.get(record.app);
    const alive = app !== undefined && (app.ownerPid === options.selfPid || ownerAlive(app.ownerPid, app.ownerStart));
    const live = alive && app.state !== 'stopped';
    if (!live && (options.running || now - Math.max(app?.updatedAt ?? 0, record.updatedAt) > STOPPED_KEPT_MS)) continue;
    rows.push({
      app: record.app,
      instance: record.instance,
      index: record.index,
      state: live ? record.state : 'stopped',
      pid: live ? record.pid : null,
      port: live ? record.port : null,
      restarts: record.restarts,
      exitCode: record.exitCode,
      uptime: live && record.state === 'running' && record.runningSince ? Math.max(0, Math.floor((now - record.runningSince) / 1000)) : null,
      rps: live ? (rates.get(`${record.app}/${record.instance}`) ?? 0) : 0,
      ...(live && record.pid !== null && options.usage ? options.usage.of(record.app, record.instance, record.index, record.pid) : { cpu: null, memory: null }),
      // Where the router reaches its instance type: known to the platform that runs it, never to a read of state.
      ...(live && options.urls ? options.urls(record.app, record.instance) : NO_URLS),
    });
  }
  return rows;
}

/** CPU and memory summed over processes (an instance type's); null when none of them is sampled. */
export function usageOf(rows: ProcessRow[]): { cpu: number | null; memory: number | null } {
  const sampled = (values: Array<number | null>) => values.filter((value): value is number => value !== null);
  const cpu = sampled(rows.map((row) => row.cpu));
  const memory = sampled(rows.map((row) => row.memory));
  return { cpu: cpu.length > 0 ? Math.round(cpu.reduce((a, b) => a + b, 0) * 10) / 10 : null, memory: memory.length > 0 ? memory.reduce((a, b) => a + b, 0) : null };
}
