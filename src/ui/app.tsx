import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useRef, useState } from 'react';
import type { Feed, LogView, ProcessView, Snapshot } from './model.js';

/** State → colour and a symbol, so a state reads without colour too. */
const STATES: Record<string, { color: string; symbol: string }> = {
  running: { color: 'green', symbol: '●' },
  starting: { color: 'yellow', symbol: '◐' },
  stopping: { color: 'yellow', symbol: '◑' },
  backoff: { color: 'red', symbol: '↻' },
  crashed: { color: 'red', symbol: '✖' },
  exited: { color: 'gray', symbol: '✓' },
  stopped: { color: 'gray', symbol: '○' },
};

interface Column {
  title: string;
  width: number;
  /** Lower drops last when the terminal is narrow. */
  priority: number;
  value: (row: ProcessView) => string;
}

const bytes = (value: number | null) => (value === null ? '-' : value >= 1024 ** 3 ? `${(value / 1024 ** 3).toFixed(1)}G` : `${Math.round(value / 1024 ** 2)}M`);

const COLUMNS: Column[] = [
  { title: 'PROCESS', width: 18, priority: 0, value: (row) => row.key },
  { title: 'STATE', width: 11, priority: 0, value: (row) => `${STATES[row.state]?.symbol ?? '?'} ${row.state}` },
  { title: 'URL', width: 40, priority: 1, value: (row) => row.url ?? '-' },
  { title: 'REQ/S', width: 7, priority: 2, value: (row) => (row.rps ? String(row.rps) : '-') },
  { title: 'PID', width: 8, priority: 3, value: (row) => (row.pid === null ? '-' : String(row.pid)) },
  { title: 'CPU', width: 6, priority: 4, value: (row) => (row.cpu === null ? '-' : `${row.cpu}%`) },
  { title: 'MEM', width: 7, priority: 4, value: (row) => bytes(row.memory) },
  { title: 'PORT', width: 7, priority: 5, value: (row) => (row.port === null ? '-' : String(row.port)) },
  { title: 'RESTARTS', width: 9, priority: 6, value: (row) => String(row.restarts) },
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

const fit = (text: string, width: number) => (text.length >= width ? `${text.slice(0, width - 2)}… ` : text.padEnd(width));

export interface ViewState {
  selected: number;
  /** Logs of the selected row only (Enter), or every line. */
  focused: boolean;
  filter: string;
  editingFilter: boolean;
  help: boolean;
  message: string | null;
}

/**
 * Which log lines the pane shows — the focused row's and those matching the
 * filter — at most `limit`, newest last. Walks back from the newest line, so a
 * frame costs the lines it shows, not the whole buffer.
 */
export function visibleLogs(snapshot: Snapshot, view: ViewState, limit = Number.POSITIVE_INFINITY): LogView[] {
  const row = snapshot.processes[view.selected];
  const focus = view.focused && row ? row : undefined;
  const filter = view.filter.toLowerCase();
  const logs = snapshot.logs;
  if (!focus && !filter) return logs.slice(Math.max(0, logs.length - limit));
  const out: LogView[] = [];
  for (let i = logs.length - 1; i >= 0 && out.length < limit; i--) {
    const line = logs[i]!;
    if (focus && !(line.app === focus.app && (line.source === focus.name || line.source.startsWith(`${focus.instance}:`)))) continue;
    if (filter && !line.line.toLowerCase().includes(filter)) continue;
    out.push(line);
  }
  return out.reverse();
}

/** One frame: the process table, services, the log pane and the status line. Pure: data in, text out. */
export function StackView({ snapshot, view, width, height, color }: { snapshot: Snapshot; view: ViewState; width: number; height: number; color: boolean }) {
  const columns = columnsFor(width - 2);
  const multiApp = new Set(snapshot.processes.map((row) => row.app)).size > 1;
  const services = snapshot.services.length > 0 ? 1 : 0;
  const tableHeight = snapshot.processes.length + 1 + services;
  // One row spare: a frame as tall as the terminal scrolls it, and the next frame cannot erase the top line.
  const logHeight = Math.max(3, height - tableHeight - 5);
  const logs = visibleLogs(snapshot, view, logHeight);
  const paint = (value: string | undefined) => (color ? value : undefined);
  if (view.help) {
    return (
      <Box flexDirection="column">
        <Text bold>Paasmaker — keys</Text>
        <Text>↑/↓ select a process · Enter show only its logs (again: all) · / filter logs · c clear logs</Text>
        <Text>r rolling restart of the selected instance type · o open its URL · ? this help · q stop and quit</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>{columns.map((column) => fit(column.title, column.width)).join('')}</Text>
      {snapshot.processes.map((row, index) => {
        const state = STATES[row.state] ?? { color: 'white', symbol: '?' };
        const selected = index === view.selected;
        return (
          <Text key={row.key} inverse={selected}>
            {columns.map((column) =>
              column.title === 'STATE' ? (
                <Text key={column.title} color={paint(state.color)}>
                  {fit(column.value(row), column.width)}
                </Text>
              ) : (
                <Text key={column.title}>{fit(column.title === 'PROCESS' && !multiApp ? row.name : column.value(row), column.width)}</Text>
              ),
            )}
          </Text>
        );
      })}
      {services > 0 && <Text dimColor>{fit(`services: ${snapshot.services.map((service) => `${service.name} (${service.plugin})`).join(', ')}`, width)}</Text>}
      <Text dimColor>{'─'.repeat(Math.max(0, width - 2))}</Text>
      <Box flexDirection="column" height={logHeight}>
        {logs.map((line, index) => (
          <Text key={index} wrap="truncate-end" color={paint(line.stream === 'err' ? 'red' : undefined)} dimColor={line.stream === 'system'}>
            {`${(multiApp ? `${line.app}/${line.source}` : line.source).padEnd(12)} │ ${line.line}`}
          </Text>
        ))}
      </Box>
      <Text wrap="truncate-end">
        <Text bold>{snapshot.title}</Text>
        {snapshot.degraded ? <Text color={paint('red')} bold>{`  ${snapshot.degraded}`}</Text> : ''}
        {snapshot.routerUrl ? `  ${snapshot.routerUrl}` : ''}
        {snapshot.job ? `  · ${snapshot.job}` : ''}
        {view.editingFilter ? `  filter: ${view.filter}▏` : view.filter ? `  filter: ${view.filter}` : ''}
        {view.focused ? '  [focused]' : ''}
        {view.message ? `  ${view.message}` : ''}
        <Text dimColor>{'  ? help · q quit'}</Text>
      </Text>
    </Box>
  );
}

/**
 * The live UI: redraws from the feed ten times a second at most (so a flood
 * of log lines costs one frame per tick, never a frame per line) and turns
 * keys into actions.
 */
export function StackApp({ feed, color, openUrl, intervalMs = 100 }: { feed: Feed; color: boolean; openUrl: (url: string) => boolean; intervalMs?: number }) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [snapshot, setSnapshot] = useState<Snapshot>(() => feed.snapshot());
  const [size, setSize] = useState({ width: stdout.columns || 80, height: stdout.rows || 24 });
  const [view, setView] = useState<ViewState>({ selected: 0, focused: false, filter: '', editingFilter: false, help: false, message: null });

  useEffect(() => {
    const timer = setInterval(() => setSnapshot(feed.snapshot()), intervalMs);
    const resize = () => setSize({ width: stdout.columns || 80, height: stdout.rows || 24 });
    stdout.on('resize', resize);
    return () => {
      clearInterval(timer);
      stdout.off('resize', resize);
    };
  }, [feed, stdout, intervalMs]);

  // Keys can come faster than frames: they read and write the view through a ref, never a stale render.
  const current = useRef(view);
  const shown = useRef(snapshot);
  shown.current = snapshot;
  const update = (patch: Partial<ViewState>) => {
    current.current = { ...current.current, ...patch };
    setView(current.current);
  };

  useInput((input, key) => {
    const view = current.current;
    const snapshot = shown.current;
    if (view.editingFilter) {
      if (key.return || key.escape) update({ editingFilter: false });
      else if (key.backspace || key.delete) update({ filter: view.filter.slice(0, -1) });
      else if (input && !key.ctrl && !key.meta) update({ filter: view.filter + input });
      return;
    }
    if (view.help) {
      update({ help: false });
      return;
    }
    const row = snapshot.processes[view.selected];
    if (input === 'q' || (key.ctrl && input === 'c')) {
      update({ message: 'stopping…' });
      void feed.quit().then(() => exit());
    } else if (key.upArrow) update({ selected: Math.max(0, view.selected - 1) });
    else if (key.downArrow) update({ selected: Math.min(snapshot.processes.length - 1, view.selected + 1) });
    else if (key.return) update({ focused: !view.focused });
    else if (input === '/') update({ editingFilter: true, filter: '' });
    else if (input === 'c') {
      feed.clearLogs();
      update({ message: null });
    } else if (input === '?') update({ help: true });
    else if (input === 'r' && row) {
      update({ message: `restarting ${row.instance}…` });
      feed.restart(row).then(
        () => update({ message: `${row.instance} restarted` }),
        (error: Error) => update({ message: error.message }),
      );
    } else if (input === 'o' && row) {
      update({ message: row.url ? (openUrl(row.url) ? `opened ${row.url}` : `open ${row.url} in a browser`) : `${row.name} has no URL` });
    }
  });

  return <StackView snapshot={snapshot} view={view} width={size.width} height={size.height} color={color} />;
}
