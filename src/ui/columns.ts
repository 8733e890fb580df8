import { cpuText, memoryText } from '../shared/usage-text.js';
import type { ProcessView } from './model.js';

/** State → colour and a symbol, so a state reads without colour too. */
export const STATES: Record<string, { color: string; symbol: string }> = {
  running: { color: 'green', symbol: '●' },
  starting: { color: 'yellow', symbol: '◐' },
  stopping: { color: 'yellow', symbol: '◑' },
  backoff: { color: 'red', symbol: '↻' },
  crashed: { color: 'red', symbol: '✖' },
  exited: { color: 'gray', symbol: '✓' },
  stopped: { color: 'gray', symbol: '○' },
};

/** States of a process that does not run and should. */
export const FAILING: ReadonlySet<string> = new Set(['backoff', 'crashed']);

export interface Column {
  title: string;
  width: number;
  /** Lower drops last when the terminal is narrow. */
  priority: number;
  value: (row: ProcessView) => string;
}

// RESTARTS goes last of all but the name and state: a crash loop is what a narrow terminal must still show.
const COLUMNS: Column[] = [
  { title: 'PROCESS', width: 18, priority: 0, value: (row) => row.key },
  { title: 'STATE', width: 11, priority: 0, value: (row) => `${STATES[row.state]?.symbol ?? '?'} ${row.state}` },
  { title: 'URL', width: 40, priority: 2, value: (row) => row.url ?? '-' },
  { title: 'REQ/S', width: 7, priority: 3, value: (row) => (row.rps ? String(row.rps) : '-') },
  { title: 'PID', width: 8, priority: 4, value: (row) => (row.pid === null ? '-' : String(row.pid)) },
  { title: 'CPU', width: 7, priority: 5, value: (row) => cpuText(row.cpu) },
  { title: 'MEM', width: 7, priority: 5, value: (row) => memoryText(row.memory) },
  { title: 'PORT', width: 7, priority: 6, value: (row) => (row.port === null ? '-' : String(row.port)) },
  { title: 'RESTARTS', width: 9, priority: 1, value: (row) => String(row.restarts) },
];

/** The columns that fit, by priority, in their natural order. */
export function columnsFor(width: number): Column[] {
  const chosen = new Set<Column>();
  let used = 0;
  for (const column of [...COLUMNS].sort((a, b) => a.priority - b.priority)) {
    if (used + column.width > width) continue;
    chosen.add(column);
    used += column.width;
  }
  return COLUMNS.filter((column) => chosen.has(column));
}

export const fit = (text: string, width: number) => (text.length >= width ? `${text.slice(0, width - 2)}… ` : text.padEnd(width));

/** The header's counts: "2 running · 1 failing · 1 stopped". */
export function stateCounts(processes: ProcessView[]): string {
  const running = processes.filter((row) => row.state === 'running').length;
  const failing = processes.filter((row) => FAILING.has(row.state)).length;
  const stopped = processes.filter((row) => row.state === 'stopped').length;
  const finished = processes.filter((row) => row.state === 'exited').length;
  const other = processes.length - running - failing - stopped - finished;
  return [`${running} running`, `${failing} failing`, finished ? `${finished} done` : '', stopped ? `${stopped} stopped` : '', other ? `${other} starting` : ''].filter(Boolean).join(' · ');
}
