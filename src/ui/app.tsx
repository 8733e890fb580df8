import { useApp, useInput, useStdout, type Key } from 'ink';
import { useEffect, useRef, useState } from 'react';
import { findMatch, scrolled, visibleLogs } from './log-pane.js';
import type { Feed, ProcessView, Snapshot } from './model.js';
import { initialView, logHeightFor, StackView, type ViewState } from './stack-view.js';

export { columnsFor } from './columns.js';
export { visibleLogs } from './log-pane.js';
export { StackView, type ViewState } from './stack-view.js';

interface KeyContext {
  view: ViewState;
  snapshot: Snapshot;
  /** Rows of the log pane now. */
  height: number;
  update: (patch: Partial<ViewState>) => void;
  feed: Feed;
  openUrl: (url: string) => boolean;
}

/** The open prompt takes the keys: the text is applied as typed; Enter keeps it, Esc clears it. */
function promptKey(input: string, key: Key, { view, snapshot, height, update }: KeyContext): void {
  const field = view.prompt === 'search' ? 'search' : 'filter';
  if (key.escape) update({ prompt: null, [field]: '', match: null });
  else if (key.return) {
    if (field === 'search' && view.search) {
      const found = findMatch(visibleLogs(snapshot, view), { ...view, match: null }, height, 'older');
      update(found ? { prompt: null, ...found } : { prompt: null, match: null });
    } else update({ prompt: null });
  } else if (key.backspace || key.delete) update({ [field]: view[field].slice(0, -1), match: null });
  else if (input && !key.ctrl && !key.meta) update({ [field]: view[field] + input, match: null, ...(field === 'filter' ? { anchor: null } : {}) });
}

/** A stop, start or restart of the selected process, its outcome in the status line. */
function act(context: KeyContext, row: ProcessView, doing: string, run: () => Promise<string>): void {
  context.update({ message: `${doing} ${row.name}…` });
  run().then(
    (outcome) => context.update({ message: `${row.name}: ${outcome}` }),
    (error: Error) => context.update({ message: error.message }),
  );
}

function logKey(input: string, key: Key, context: KeyContext): boolean {
  const { view, snapshot, height, update } = context;
  const lines = () => visibleLogs(snapshot, view);
  const scroll = (delta: number) => update({ anchor: scrolled(lines(), view.anchor, height, delta) });
  if (input === 'k') scroll(-1);
  else if (input === 'j') scroll(1);
  else if (key.pageUp) scroll(-(height - 1));
  else if (key.pageDown) scroll(height - 1);
  else if (input === 'g' || key.home) scroll(Number.NEGATIVE_INFINITY);
  else if (input === 'G' || key.end) update({ anchor: null, match: null });
  else if (input === 'n' || input === 'N') {
    if (!view.search) update({ message: 'no search: / starts one' });
    else {
      const found = findMatch(lines(), view, height, input === 'n' ? 'older' : 'newer');
      update(found ? { ...found, message: null } : { message: `no ${input === 'n' ? 'older' : 'newer'} line matches "${view.search}"` });
    }
  } else if (input === '/') update({ prompt: 'search', search: '', match: null });
  else if (input === 'f') update({ prompt: 'filter', filter: '' });
  else if (key.escape) update({ filter: '', search: '', match: null, message: null });
  else if (input === 't') update({ timestamps: !view.timestamps });
  else return false;
  return true;
}

function processKey(input: string, key: Key, context: KeyContext): void {
  const { view, snapshot, update, feed } = context;
  const row = snapshot.processes[view.selected];
  if (key.upArrow) update({ selected: Math.max(0, view.selected - 1) });
  else if (key.downArrow) update({ selected: Math.min(snapshot.processes.length - 1, view.selected + 1) });
  else if (key.return) update({ focused: !view.focused, anchor: null });
  else if (input === 'c') {
    feed.clearLogs();
    update({ message: null, anchor: null, match: null });
  } else if (input === '?') update({ help: true });
  else if (input === 's' && row) act(context, row, 'stopping', () => feed.stop(row));
  else if (input === 'S' && row) act(context, row, 'starting', () => feed.start(row));
  else if (input === 'r' && row) {
    update({ message: `restarting ${row.instance}…` });
    feed.restart(row).then(
      () => update({ message: `${row.instance} restarted` }),
      (error: Error) => update({ message: error.message }),
    );
  } else if (input === 'o' && row) {
    update({ message: row.url ? (context.openUrl(row.url) ? `opened ${row.url}` : `open ${row.url} in a browser`) : `${row.name} has no URL` });
  }
}

/**
 * Keys typed faster than they are read arrive as one chunk ("jjk", "/error\r"):
 * each is a key of its own. Escape sequences (arrows, PgUp) stay whole.
 */
export function keystrokes(input: string, key: Key): Array<[string, Key]> {
  if (input.length <= 1 || input.includes('\u001b')) return [[input, key]];
  return [...input].map((char): [string, Key] => (char === '\r' || char === '\n' ? ['', { ...key, return: true }] : [char, { ...key, shift: char !== char.toLowerCase() }]));
}

/** What a frame shows besides the log pane: when only the logs moved, the frame may wait. */
function screenKey(snapshot: Snapshot): string {
  return JSON.stringify([snapshot.title, snapshot.routerUrl, snapshot.job, snapshot.degraded, snapshot.warnings, snapshot.quit, snapshot.processes, snapshot.services, snapshot.versions]);
}

/** Where the log pane stands: its length and newest line. */
function logsKey(snapshot: Snapshot): string {
  const logs = snapshot.logs;
  return `${logs.length}:${logs.length > 0 ? logs[logs.length - 1]!.seq : -1}`;
}

/**
 * While lines stream in, a frame that only moves the log pane is drawn twice a
 * second at most: nobody reads a thousand lines a second, and each frame costs
 * the terminal renderer the whole screen. A line after a quiet moment shows on
 * the next tick.
 */
export const STREAM_FRAME_MS = 500;

/**
 * Which ticks draw a frame. A frame like the one on screen is not drawn again
 * (but once a second anyway): an idle screen, or one whose app only serves
 * traffic, costs nothing ten times a second. One that only adds log lines
 * waits STREAM_FRAME_MS while lines stream (the last frame drawn added some
 * too); anything else (a state, a key, a first line) draws at once.
 */
export class FramePacer {
  private screen = '';
  private logs = '';
  private at = -Infinity;
  private streaming = false;

  /** Whether the frame whose keys these are is drawn now (and becomes the one on screen). */
  draw(screen: string, logs: string, now: number): boolean {
    const since = now - this.at;
    const onlyLogs = screen === this.screen && logs !== this.logs;
    if (screen === this.screen && logs === this.logs && since < 1000) return false;
    if (onlyLogs && this.streaming && since < STREAM_FRAME_MS) return false;
    this.streaming = onlyLogs && since < 1000;
    this.screen = screen;
    this.logs = logs;
    this.at = now;
    return true;
  }
}

/**
 * The live UI: redraws from the feed ten times a second at most (so a flood
 * of log lines costs one frame per tick, never a frame per line) and turns
 * keys into actions. Warnings (the platform's stderr while the UI is up)
 * join the feed's in the status line.
 */
export function StackApp({ feed, color, openUrl, intervalMs = 100, warnings, onInterrupt }: { feed: Feed; color: boolean; openUrl: (url: string) => boolean; intervalMs?: number; warnings?: () => string[]; onInterrupt?: () => void }) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const frame = () => {
    const snapshot = feed.snapshot();
    const more = warnings?.() ?? [];
    return more.length > 0 ? { ...snapshot, warnings: [...snapshot.warnings, ...more] } : snapshot;
  };
  const [snapshot, setSnapshot] = useState<Snapshot>(frame);
  const [size, setSize] = useState({ width: stdout.columns || 80, height: stdout.rows || 24 });
  const [view, setView] = useState<ViewState>(initialView);

  useEffect(() => {
    const pacer = new FramePacer();
    const timer = setInterval(() => {
      const next = frame();
      if (pacer.draw(screenKey(next), logsKey(next), Date.now())) setSnapshot(next);
    }, intervalMs);
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

  const handle = (input: string, key: Key) => {
    const context: KeyContext = { view: current.current, snapshot: shown.current, height: logHeightFor(shown.current, size.height), update, feed, openUrl };
    if (context.view.prompt) return promptKey(input, key, context);
    if (context.view.help) return update({ help: false });
    if (input === 'q' || (key.ctrl && input === 'c')) {
      if (input !== 'q') onInterrupt?.();
      update({ message: 'stopping…' });
      void feed.quit().then(() => exit());
    } else if (!logKey(input, key, context)) processKey(input, key, context);
  };
  useInput((input, key) => {
    for (const [one, oneKey] of keystrokes(input, key)) handle(one, oneKey);
  });

  return <StackView snapshot={snapshot} view={view} width={size.width} height={size.height} color={color} />;
}
