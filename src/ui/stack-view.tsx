import chalk from 'chalk';
import { Box, Text } from 'ink';
import { colorFor } from '../shared/name-colors.js';
import { columnsFor, fit, STATES, stateCounts } from './columns.js';
import { holds, logWindow, matchPlace, visibleLogs, type LogPaneState } from './log-pane.js';
import type { LogView, Snapshot } from './model.js';

export interface ViewState extends LogPaneState {
  /** The prompt open at the bottom: its text is the filter or the search, applied as it is typed. */
  prompt: 'filter' | 'search' | null;
  timestamps: boolean;
  help: boolean;
  message: string | null;
}

export const initialView: ViewState = { selected: 0, focused: false, filter: '', search: '', match: null, anchor: null, prompt: null, timestamps: false, help: false, message: null };

/** The header says the version of the app it is titled after; the others' (paasmaker top) get a line of their own. */
const titleVersion = (snapshot: Snapshot) => snapshot.versions.find((version) => version.app === snapshot.title)?.text;
const otherVersions = (snapshot: Snapshot) => snapshot.versions.filter((version) => version.app !== snapshot.title);

/** Rows of the log pane: the terminal less the header, the table, the separator, the warning, status and keys lines, and one spare. */
export function logHeightFor(snapshot: Snapshot, height: number): number {
  const table = snapshot.processes.length + 1 + (snapshot.services.length > 0 ? 1 : 0) + (otherVersions(snapshot).length > 0 ? 1 : 0);
  // One row spare: a frame as tall as the terminal scrolls it, and the next frame cannot erase the top line.
  return Math.max(3, height - table - 5 - (snapshot.warnings.length > 0 ? 1 : 0));
}

/** The keys, in the help screen: every one, and what q does here. */
export function helpLines(snapshot: Snapshot): string[] {
  return [
    '↑/↓ select a process · Enter only its logs (again: all) · o open its URL',
    's stop it · S start it · r rolling restart of its instance type',
    'j/k a line back/on · PgUp/PgDn a page · g the oldest · G the newest, following',
    '/ search (n older match, N newer) · f filter · Esc clears search and filter',
    't timestamps · c clear the pane · ? this help',
    snapshot.quit,
  ];
}

const KEYS = 's stop · S start · r restart · / search · f filter · t times · ? help · q quit';
const clock = (time: number) => new Date(time).toTimeString().slice(0, 8);

/** A line's text with the search marked. */
function Marked({ text, search, color }: { text: string; search: string; color: boolean }) {
  if (!search) return <>{text}</>;
  const parts: Array<{ text: string; hit: boolean }> = [];
  const lower = text.toLowerCase();
  const wanted = search.toLowerCase();
  let at = 0;
  for (let found = lower.indexOf(wanted); found !== -1; found = lower.indexOf(wanted, at)) {
    if (found > at) parts.push({ text: text.slice(at, found), hit: false });
    parts.push({ text: text.slice(found, found + wanted.length), hit: true });
    at = found + wanted.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at), hit: false });
  return (
    <>
      {parts.map((part, index) =>
        part.hit ? (
          <Text key={index} color={color ? 'black' : undefined} backgroundColor={color ? 'yellow' : undefined} inverse={!color}>
            {part.text}
          </Text>
        ) : (
          part.text
        ),
      )}
    </>
  );
}

/** A log line's name column, padded: its process, with its app where several apps show (`top`). */
const lineLabel = (line: LogView, multiApp: boolean) => (multiApp ? `${line.app}/${line.source}` : line.source).padEnd(12);
/** The colour of a line's name: its process's ("web" for web.0 and web:prepare alike). */
const lineColor = (line: LogView) => colorFor(line.source.split(':')[0]!);

/**
 * A log line as one styled string: what ink makes of the nested Texts below
 * (each part dimmed, then coloured, by the same chalk as ink's Text), in one
 * text node rather than four. Under a stream of lines every frame draws new
 * lines, so these nodes were most of what a frame made and dropped.
 */
export function logLineText(line: LogView, timestamps: boolean, multiApp: boolean, color: boolean): string {
  const label = lineLabel(line, multiApp);
  const time = timestamps ? chalk.dim(`${clock(line.time)} `) : '';
  const name = color ? chalk[lineColor(line)](label) : label;
  const text = line.line === '' ? '' : line.stream === 'system' ? chalk.dim(line.line) : color && line.stream === 'err' ? chalk.red(line.line) : line.line;
  return `${time}${name} | ${text}`;
}

export function LogLine({ line, view, multiApp, color }: { line: LogView; view: ViewState; multiApp: boolean; color: boolean }) {
  if (holds(line, view.search)) return <MarkedLogLine line={line} view={view} multiApp={multiApp} color={color} />;
  return (
    <Text wrap="truncate-end" inverse={line.seq === view.match}>
      {logLineText(line, view.timestamps, multiApp, color)}
    </Text>
  );
}

/** A line the search holds: its hits marked, in Texts of their own. */
export function MarkedLogLine({ line, view, multiApp, color }: { line: LogView; view: ViewState; multiApp: boolean; color: boolean }) {
  return (
    <Text wrap="truncate-end" inverse={line.seq === view.match}>
      {view.timestamps ? <Text dimColor>{`${clock(line.time)} `}</Text> : ''}
      <Text color={color ? lineColor(line) : undefined}>{lineLabel(line, multiApp)}</Text>
      {' | '}
      <Text color={color && line.stream === 'err' ? 'red' : undefined} dimColor={line.stream === 'system'}>
        <Marked text={line.line} search={view.search} color={color} />
      </Text>
    </Text>
  );
}

/** The status line's words for the search, the filter and the scroll position. */
function paneStatus(lines: LogView[], view: ViewState, height: number): string[] {
  const words: string[] = [];
  if (view.search) {
    const { place, count } = matchPlace(lines, view.search, view.match);
    const typing = view.prompt === 'search' ? '▏' : '';
    words.push(count === 0 ? `/${view.search}${typing}: no lines match` : `/${view.search}${typing}${place ? ` ${place} of ${count}` : ` ${count} match(es)`}`);
  } else if (view.prompt === 'search') words.push('/▏');
  if (view.filter || view.prompt === 'filter') words.push(`filter: ${view.filter}${view.prompt === 'filter' ? '▏' : ''}`);
  if (view.focused) words.push('[focused]');
  if (view.anchor !== null) {
    const { end } = logWindow(lines, view.anchor, height);
    words.push(`line ${end} of ${lines.length} · G follows`);
  }
  return words;
}

/** One frame: header, the process table, services, the log pane, warnings, status and keys. Pure: data in, text out. */
export function StackView({ snapshot, view, width, height, color }: { snapshot: Snapshot; view: ViewState; width: number; height: number; color: boolean }) {
  if (view.help) {
    return (
      <Box flexDirection="column">
        <Text bold>Paasmaker — keys</Text>
        {helpLines(snapshot).map((line) => (
          <Text key={line}>{line}</Text>
        ))}
      </Box>
    );
  }
  const columns = columnsFor(width - 2);
  const multiApp = new Set(snapshot.processes.map((row) => row.app)).size > 1;
  const logHeight = logHeightFor(snapshot, height);
  const lines = visibleLogs(snapshot, view);
  const { start, end } = logWindow(lines, view.anchor, logHeight);
  const paint = (value: string | undefined) => (color ? value : undefined);
  const selectedRow = snapshot.processes[view.selected];
  const empty = view.filter ? `no lines match "${view.filter}"` : view.focused && selectedRow ? `no lines from ${selectedRow.name} yet` : '';
  const status = [snapshot.job ?? '', ...paneStatus(lines, view, logHeight), view.message ?? ''].filter(Boolean).join('  · ');
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate-end">
        <Text bold>{snapshot.title}</Text>
        {titleVersion(snapshot) ? ` ${titleVersion(snapshot)}` : ''}
        {`  ${snapshot.routerUrl ?? 'no router'}  `}
        {stateCounts(snapshot.processes)}
      </Text>
      <Text bold>{columns.map((column) => fit(column.title, column.width)).join('')}</Text>
      {snapshot.processes.map((row, index) => {
        const state = STATES[row.state] ?? { color: 'white', symbol: '?' };
        return (
          <Text key={row.key} inverse={index === view.selected}>
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
      {otherVersions(snapshot).length > 0 && <Text dimColor>{fit(`versions: ${otherVersions(snapshot).map((version) => `${version.app} ${version.text}`).join(' · ')}`, width)}</Text>}
      {snapshot.services.length > 0 && <Text dimColor>{fit(`services: ${snapshot.services.map((service) => `${service.name} (${service.plugin})`).join(', ')}`, width)}</Text>}
      <Text dimColor>{'─'.repeat(Math.max(0, width - 2))}</Text>
      <Box flexDirection="column" height={logHeight}>
        {lines.length === 0 && empty ? <Text dimColor>{empty}</Text> : lines.slice(start, end).map((line) => <LogLine key={line.seq} line={line} view={view} multiApp={multiApp} color={color} />)}
      </Box>
      {snapshot.warnings.length > 0 && (
        <Text wrap="truncate-end" color={paint('yellow')}>
          {`⚠ ${snapshot.warnings.at(-1)}${snapshot.warnings.length > 1 ? ` (+${snapshot.warnings.length - 1} more)` : ''}`}
        </Text>
      )}
      <Text wrap="truncate-end">
        {snapshot.degraded ? <Text color={paint('red')} bold>{`${snapshot.degraded}  `}</Text> : ''}
        {status}
      </Text>
      <Text wrap="truncate-end" dimColor>
        {KEYS}
      </Text>
    </Box>
  );
}
