import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, seg } from '../lib/api.js';
import { onEvent } from '../lib/events.js';
import { clock } from '../lib/format.js';
import { href, navigate } from '../lib/route.js';
import { useLive } from '../lib/use-live.js';
import type { App, LogLineRow } from '../lib/views.js';

interface Line {
  app: string;
  source: string;
  stream: string;
  line: string;
  time: number;
}

const KEEP = 2000;

/** "error" finds lines holding it (any case); "/err(or)?/i" is a regular expression. */
function matcher(filter: string): (text: string) => boolean {
  const regex = /^\/(.+)\/([a-z]*)$/.exec(filter);
  if (regex) {
    try {
      const pattern = new RegExp(regex[1]!, regex[2]);
      return (text) => pattern.test(text);
    } catch {
      // not a regular expression after all: a plain search
    }
  }
  const needle = filter.toLowerCase();
  return (text) => text.toLowerCase().includes(needle);
}

export default function Logs({ place }: { place: { app?: string } }) {
  const apps = useLive<App[]>('/apps', []);
  const app = place.app;
  const [lines, setLines] = useState<Line[]>([]);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState<Line[]>([]);
  const [filter, setFilter] = useState('');
  const [stderrOnly, setStderrOnly] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  // History first (each app's recent lines), then every line as it is printed.
  useEffect(() => {
    setLines([]);
    setHeld([]);
    let stopped = false;
    const names = app ? [app] : (apps.data ?? []).filter((candidate) => candidate.state !== 'stopped').map((candidate) => candidate.name);
    Promise.all(names.map((name) => get<LogLineRow[]>(`/apps/${seg(name)}/logs?lines=200`).then((rows) => rows.map((row) => ({ app: name, source: row.source, stream: row.stream, line: row.line, time: Date.parse(row.time) })), () => [] as Line[]))).then((parts) => {
      if (stopped) return;
      const history = parts.flat().sort((a, b) => a.time - b.time);
      setLines((live) => [...history, ...live].slice(-KEEP));
    });
    const off = onEvent('log.line', (event: Line) => {
      if (app && event.app !== app) return;
      if (pausedRef.current) setHeld((list) => [...list, event].slice(-KEEP));
      else setLines((list) => [...list, event].slice(-KEEP));
    });
    return () => {
      stopped = true;
      off();
    };
  }, [app, app ? '' : (apps.data ?? []).map((candidate) => candidate.name).join(',')]);

  const test = useMemo(() => matcher(filter), [filter]);
  const shown = lines.filter((line) => (!filter || test(`${line.app} ${line.source} ${line.line}`)) && (!stderrOnly || line.stream === 'err'));

  useEffect(() => {
    const element = box.current;
    if (element && atBottom.current) element.scrollTop = element.scrollHeight;
  }, [shown.length, shown[shown.length - 1]]);

  const resume = () => {
    setLines((list) => [...list, ...held].slice(-KEEP));
    setHeld([]);
    setPaused(false);
  };

  return (
    <div class="page logs-page">
      <div class="toolbar">
        <select value={app ?? ''} onChange={(event) => navigate(href({ page: 'logs', app: (event.target as HTMLSelectElement).value || undefined }))} aria-label="app">
          <option value="">every app</option>
          {(apps.data ?? []).map((candidate) => (
            <option key={candidate.name} value={candidate.name}>
              {candidate.name}
            </option>
          ))}
        </select>
        <input class="filter" placeholder="filter (text or /regex/)" value={filter} onInput={(event) => setFilter((event.target as HTMLInputElement).value)} aria-label="filter" spellcheck={false} />
        <label class="check">
          <input type="checkbox" checked={stderrOnly} onChange={(event) => setStderrOnly((event.target as HTMLInputElement).checked)} /> stderr only
        </label>
        <span class="spacer" />
        <span class="muted small">
          {shown.length} of {lines.length} lines
        </span>
        {paused ? (
          <button class="primary" onClick={resume}>
            Resume{held.length > 0 ? ` (${held.length} new)` : ''}
          </button>
        ) : (
          <button onClick={() => setPaused(true)}>Pause</button>
        )}
        <button onClick={() => setLines([])}>Clear</button>
      </div>
      <div
        class="log big"
        ref={box}
        onScroll={(event) => {
          const element = event.currentTarget as HTMLDivElement;
          atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
        }}
        data-testid="log-view"
      >
        {shown.length === 0 && <div class="muted">{lines.length === 0 ? 'Waiting for output…' : 'No line matches.'}</div>}
        {shown.map((line, index) => (
          <div key={index} class={`line line-${line.stream}`}>
            <span class="time">{clock(line.time)}</span>
            {!app && <span class="app">{line.app}</span>}
            <span class="source">{line.source}</span>
            <span class="text">{line.line}</span>
          </div>
        ))}
      </div>
    </div>
  );
}
