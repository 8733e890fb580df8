import { useEffect, useRef, useState } from 'preact/hooks';
import { StateBadge } from '../components/state.js';
import { act } from '../components/toasts.js';
import { get, post, seg } from '../lib/api.js';
import { ago, clock, span } from '../lib/format.js';
import { href, navigate } from '../lib/route.js';
import { can, NEEDS } from '../lib/session.js';
import { onEvent } from '../lib/events.js';
import { useLive, useTick } from '../lib/use-live.js';
import type { JobLogLine, JobRow } from '../lib/views.js';

const FINISHED = new Set(['success', 'failed', 'aborted']);

/**
 * A job's own log, shown while its step is open: what was written before,
 * then each line as the job.log event brings it; read again whenever the
 * stream reconnects (lines sent while it was down are gone).
 */
function JobLog({ job }: { job: JobRow }) {
  const [lines, setLines] = useState<JobLogLine[]>();
  const box = useRef<HTMLPreElement>(null);
  const running = !FINISHED.has(job.state);
  useEffect(() => {
    let stopped = false;
    let loaded = false;
    const early: JobLogLine[] = [];
    const read = () =>
      get<JobLogLine[]>(`/jobs/${seg(job.id)}/log`).then(
        (value) => {
          if (stopped) return;
          loaded = true;
          // Lines that arrived while the log was read are in the answer already, or newer than its last.
          const last = value.at(-1)?.time ?? '';
          setLines([...value, ...early.filter((line) => line.time > last)]);
          early.length = 0;
        },
        () => undefined,
      );
    void read();
    const offs = [
      onEvent('open', () => void read()),
      onEvent('job.log', (event: JobLogLine & { id: string }) => {
        if (stopped || event.id !== job.id) return;
        const line = { time: event.time, stream: event.stream, line: event.line };
        if (!loaded) early.push(line);
        else setLines((before) => [...(before ?? []), line]);
      }),
    ];
    return () => {
      stopped = true;
      offs.forEach((off) => off());
    };
  }, [job.id]);
  useEffect(() => {
    const element = box.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [lines?.length]);
  if (!lines) return <pre class="log small">…</pre>;
  if (lines.length === 0) return <pre class="log small muted">{running ? 'no output yet…' : 'no output'}</pre>;
  return (
    <pre class="log small" ref={box} data-job-log={job.id}>
      {lines.map((line, index) => (
        <div key={index} class={`line line-${line.stream}`}>
          <span class="time">{clock(line.time)}</span> {line.line}
        </div>
      ))}
    </pre>
  );
}

function Tree({ id }: { id: string }) {
  const now = useTick(1000);
  const known = useRef(new Set<string>());
  const tree = useLive<JobRow[]>(`/jobs/${seg(id)}`, ['job.update'], (event: { id: string; parent?: string }) => known.current.has(event.id) || (event.parent !== undefined && known.current.has(event.parent)), 100);
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const jobs = tree.data ?? [];
  known.current = new Set(jobs.map((job) => job.id));
  if (tree.error) return <div class="empty">{tree.error.message}</div>;
  if (!tree.data) return <div class="empty loading">Loading…</div>;
  const root = jobs.find((job) => job.id === job.root) ?? jobs[0]!;
  const depth = (job: JobRow): number => {
    const parent = jobs.find((candidate) => candidate.id === job.parent);
    return parent ? depth(parent) + 1 : 0;
  };
  return (
    <div class="tree">
      <h2>
        <a href={href({ page: 'app', app: root.app })}>{root.app}</a>
        <span class="muted small">
          started {clock(root.createdAt)} · {ago(root.createdAt, now)} · {jobs.length} {jobs.length === 1 ? 'step' : 'steps'}
        </span>
        <span class="spacer" />
        {!FINISHED.has(root.state) && can(NEEDS.abortJob) && <button onClick={() => void act('abort', () => post(`/jobs/${seg(root.id)}/abort`))}>Abort</button>}
      </h2>
      <ul>
        {jobs.map((job) => {
          // Open by default: a running or failed step (not a parent: its steps tell), and a tree of one.
          const parent = jobs.some((candidate) => candidate.parent === job.id);
          const shown = open[job.id] ?? (((job.state === 'running' || job.state === 'failed') && !parent) || jobs.length === 1);
          const took = (FINISHED.has(job.state) ? job.updatedAt : now) - job.createdAt;
          return (
            <li key={job.id} style={{ paddingLeft: `${depth(job) * 18}px` }} data-job={job.id}>
              <div class="node" onClick={() => setOpen({ ...open, [job.id]: !shown })}>
                <span class="caret">{shown ? '▾' : '▸'}</span>
                <StateBadge state={job.state} />
                <span class="strong">{job.title}</span>
                {job.detail && <span class="muted ellipsis">{job.detail}</span>}
                <span class="spacer" />
                <span class="muted mono small">{span(took / 1000)}</span>
              </div>
              {shown && <JobLog job={job} />}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export default function Jobs({ place }: { place: { job?: string } }) {
  const now = useTick(1000);
  const jobs = useLive<JobRow[]>('/jobs', ['job.update'], () => true, 200);
  const [app, setApp] = useState('');
  const rows = (jobs.data ?? []).filter((job) => !app || job.app === app);
  const apps = [...new Set((jobs.data ?? []).map((job) => job.app))].sort();
  const selected = place.job ?? rows[0]?.id;
  return (
    <div class="page split">
      <section class="card list">
        <h2>
          Jobs
          <span class="spacer" />
          <select value={app} onChange={(event) => setApp((event.target as HTMLSelectElement).value)} aria-label="app">
            <option value="">every app</option>
            {apps.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </h2>
        {rows.length === 0 && <div class="muted">{jobs.data ? 'No jobs yet.' : 'Loading…'}</div>}
        <ul class="joblist">
          {rows.map((job) => (
            <li key={job.id} class={job.id === selected ? 'selected' : ''} onClick={() => navigate(href({ page: 'jobs', job: job.id }))} data-root={job.id}>
              <StateBadge state={job.state} />
              <span class="title">
                <span class="strong">{job.title}</span>
                <span class="muted small">
                  {job.app} · {ago(job.createdAt, now)}
                </span>
              </span>
            </li>
          ))}
        </ul>
      </section>
      <section class="card detail">{selected ? <Tree key={selected} id={selected} /> : <div class="empty">Pick a job.</div>}</section>
    </div>
  );
}
