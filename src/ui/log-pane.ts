import type { LogView, Snapshot } from './model.js';

/** What the log pane shows and where it stands: pure data, so scrolling and searching are testable without a terminal. */
export interface LogPaneState {
  selected: number;
  /** Logs of the selected row only (Enter), or every line. */
  focused: boolean;
  /** Only lines holding this (f). */
  filter: string;
  /** Lines holding this are marked; n/N move between them (/). */
  search: string;
  /** The seq of the search match shown now. */
  match: number | null;
  /** The seq of the last line shown; null follows the newest line. */
  anchor: number | null;
}

/** The lines the pane can show: the focused row's, those holding the filter; oldest first. */
export function visibleLogs(snapshot: Snapshot, view: Pick<LogPaneState, 'selected' | 'focused' | 'filter'>): LogView[] {
  const row = snapshot.processes[view.selected];
  const focus = view.focused && row ? row : undefined;
  const filter = view.filter.toLowerCase();
  if (!focus && !filter) return snapshot.logs;
  return snapshot.logs.filter(
    (line) =>
      (!focus || (line.app === focus.app && (line.source === focus.name || line.source.startsWith(`${focus.instance}:`)))) &&
      (!filter || line.line.toLowerCase().includes(filter)),
  );
}

/** Index just past the last line at or before seq (lines are in seq order). */
function endAt(lines: LogView[], seq: number): number {
  let low = 0;
  let high = lines.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (lines[middle]!.seq <= seq) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The window the pane shows: [start, end) of lines, at most height of them; a pane scrolled to the top stays full. */
export function logWindow(lines: LogView[], anchor: number | null, height: number): { start: number; end: number } {
  const end = anchor === null ? lines.length : Math.max(Math.min(height, lines.length), endAt(lines, anchor));
  return { start: Math.max(0, end - height), end };
}

/** The anchor that shows lines up to end; at the newest line the pane follows again. */
function anchorFor(lines: LogView[], end: number): number | null {
  return end >= lines.length ? null : lines[Math.max(0, end - 1)]!.seq;
}

/** Scrolled by delta lines (negative: back in time); g and G are -Infinity and +Infinity. */
export function scrolled(lines: LogView[], anchor: number | null, height: number, delta: number): number | null {
  const { end } = logWindow(lines, anchor, height);
  const wanted = Number.isFinite(delta) ? end + delta : delta > 0 ? lines.length : 0;
  return anchorFor(lines, Math.max(Math.min(height, lines.length), Math.min(lines.length, wanted)));
}

export const holds = (line: LogView, search: string) => search !== '' && line.line.toLowerCase().includes(search.toLowerCase());

/**
 * The next match of the search and the anchor that shows it: "older" from
 * the match shown (or from the bottom of the pane), "newer" from the match
 * shown. Null when there is none that way.
 */
export function findMatch(lines: LogView[], state: Pick<LogPaneState, 'search' | 'match' | 'anchor'>, height: number, direction: 'older' | 'newer'): { match: number; anchor: number | null } | null {
  const { start, end } = logWindow(lines, state.anchor, height);
  const from = state.match === null ? (direction === 'older' ? end : start - 1) : endAt(lines, state.match) - 1;
  let found = -1;
  if (direction === 'older') {
    for (let i = Math.min(from, lines.length) - 1; i >= 0 && found < 0; i--) if (holds(lines[i]!, state.search)) found = i;
  } else {
    for (let i = from + 1; i < lines.length && found < 0; i++) if (holds(lines[i]!, state.search)) found = i;
  }
  if (found < 0) return null;
  // Already on the screen: the pane stays; else the match comes to the middle of it.
  const shown = found >= start && found < end;
  const newEnd = shown ? end : Math.min(lines.length, found + Math.ceil(height / 2));
  const anchor = anchorFor(lines, Math.max(Math.min(height, lines.length), newEnd));
  return { match: lines[found]!.seq, anchor: anchor ?? lines.at(-1)!.seq };
}

/** "3 of 17": the match's place among the matches, counted from the newest. */
export function matchPlace(lines: LogView[], search: string, match: number | null): { place: number; count: number } {
  let count = 0;
  let place = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!holds(lines[i]!, search)) continue;
    count++;
    if (lines[i]!.seq === match) place = count;
  }
  return { place, count };
}
