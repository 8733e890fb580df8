import { useEffect, useRef, useState } from 'preact/hooks';
import { onEvent } from './events.js';
import type { Process } from './views.js';

interface ProcessSample {
  instance: string;
  index: number;
  pid: number;
  cpu: number | null;
  memory: number;
}

interface InstanceState {
  app: string;
  instance: string;
  index: number;
  state: string;
  pid?: number;
  port?: number;
  restarts: number;
}

/**
 * Process rows as the last fetch answered them, with each instance.state
 * event applied at once (a restart's `starting` shows for the moment it
 * lasts, before the next fetch). A rolling restart starts a slot's new
 * process beside the old one: the old one's `stopping`/`stopped` (another
 * pid) does not overwrite the new one's state. While a reload job (a
 * restart) runs, its instance types' slots show `starting`: their
 * successors start beside them and take over once ready.
 */
export function useProcessOverlay(app: string, rows: Process[], fetchedAt: number): Process[] {
  const [overlay, setOverlay] = useState<Record<string, Partial<Process>>>({});
  const current = useRef<Record<string, number | undefined>>({});
  const [reloading, setReloading] = useState<Record<string, string[]>>({});
  // CPU and memory every ~2 s (process.stats): set in place, no fetch.
  const [stats, setStats] = useState<Record<string, ProcessSample>>({});
  useEffect(
    () =>
      onEvent('process.stats', (event: { app: string; samples: ProcessSample[] }) => {
        if (event.app !== app) return;
        setStats(Object.fromEntries(event.samples.map((sample) => [`${sample.instance}.${sample.index}`, sample])));
      }),
    [app],
  );
  useEffect(
    () =>
      onEvent('job.update', (event: { id: string; app: string; title: string; state: string }) => {
        const reload = /^reload (.+)$/.exec(event.title);
        if (event.app !== app || !reload) return;
        const done = event.state === 'success' || event.state === 'failed' || event.state === 'aborted';
        setReloading((before) => {
          const next = { ...before };
          if (done) delete next[event.id];
          else next[event.id] = reload[1]!.split(', ');
          return next;
        });
      }),
    [app],
  );
  useEffect(() => setOverlay({}), [fetchedAt]);
  useEffect(
    () =>
      onEvent('instance.state', (event: InstanceState) => {
        if (event.app !== app) return;
        const slot = `${event.instance}.${event.index}`;
        const leaving = event.state === 'stopping' || event.state === 'stopped';
        const newest = current.current[slot];
        if (leaving && event.pid !== undefined && newest !== undefined && event.pid !== newest) return;
        if (!leaving && event.pid !== undefined) current.current[slot] = event.pid;
        setOverlay((before) => ({ ...before, [slot]: { state: event.state, pid: event.pid ?? null, port: event.port ?? null, restarts: event.restarts } }));
      }),
    [app],
  );
  useEffect(() => {
    for (const row of rows) if (row.pid !== null) current.current[`${row.instance}.${row.index}`] ??= row.pid;
  }, [rows]);
  const renewing = new Set(Object.values(reloading).flat());
  const merged = rows.map((row) => {
    const patch = overlay[`${row.instance}.${row.index}`];
    const sample = stats[`${row.instance}.${row.index}`];
    const measured = sample && sample.pid === row.pid ? { ...row, cpu: sample.cpu ?? row.cpu, memory: sample.memory } : row;
    const shown = patch ? { ...measured, ...patch, uptime: patch.state === 'running' ? row.uptime : null } : measured;
    return renewing.has(row.instance) && shown.state === 'running' ? { ...shown, state: 'starting' } : shown;
  });
  // A slot the fetch has not seen yet (scaled up a moment ago).
  for (const [slot, patch] of Object.entries(overlay)) {
    if (merged.some((row) => `${row.instance}.${row.index}` === slot)) continue;
    const dot = slot.lastIndexOf('.');
    merged.push({ app, instance: slot.slice(0, dot), index: Number(slot.slice(dot + 1)), state: 'starting', pid: null, port: null, restarts: 0, exitCode: null, uptime: null, rps: 0, cpu: null, memory: null, url: null, httpsUrl: null, ...patch });
  }
  return merged.sort((a, b) => a.instance.localeCompare(b.instance) || a.index - b.index);
}
