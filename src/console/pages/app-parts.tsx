import { useState } from 'preact/hooks';
import { TypedConfirm } from '../components/dialog.js';
import { StateBadge } from '../components/state.js';
import { act } from '../components/toasts.js';
import { ApiError, del, get, post, seg } from '../lib/api.js';
import { ago, bytes, clock, DASH } from '../lib/format.js';
import { href } from '../lib/route.js';
import { can, NEEDS } from '../lib/session.js';
import { useLive, useTick } from '../lib/use-live.js';
import type { CronRow, JobRow, LogLineRow, Process, ServiceRow } from '../lib/views.js';

const forApp = (app: string) => (event: { app?: string }) => event.app === app;

export function Services({ app, workspace }: { app: string; workspace: string }) {
  const services = useLive<ServiceRow[]>(`/services?app=${seg(app)}`, ['job.update'], forApp(app), 500);
  const [destroying, setDestroying] = useState<ServiceRow>();
  const rows = services.data ?? [];
  const allowed = can(NEEDS.deleteService, workspace);
  return (
    <section class="card">
      <h2>Services</h2>
      {rows.length === 0 ? (
        <div class="muted">{services.data ? 'No services.' : 'Loading…'}</div>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>Service</th>
              <th>Plugin</th>
              <th>Resource</th>
              <th class="num">Size</th>
              {allowed && <th />}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.name} data-service={row.service ?? ''}>
                <td class="strong">
                  {row.service}
                  {row.branch && <span class="tag">@{row.branch}</span>}
                </td>
                <td>
                  {row.plugin}
                  {row.symbolic && row.symbolic !== row.plugin && <span class="muted"> ({row.symbolic})</span>}
                </td>
                <td class="mono ellipsis" title={row.resource ?? ''}>
                  {row.resource ?? DASH}
                </td>
                <td class="num mono">{bytes(row.size)}</td>
                {allowed && (
                  <td class="actions">
                    <button class="danger" onClick={() => setDestroying(row)}>
                      Destroy
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {destroying && (
        <TypedConfirm
          what={`the service ${destroying.service}`}
          name={destroying.service ?? ''}
          onCancel={() => setDestroying(undefined)}
          onConfirm={(typed) => {
            const row = destroying;
            setDestroying(undefined);
            const branch = row.branch ? `&branch=${seg(row.branch)}` : '';
            void act(`destroy ${row.service}`, () => del<{ detail: string | null; state: string }>(`/services/${seg(app)}/${seg(row.service ?? '')}?wait=30${branch}`, { confirm: typed }), (outcome) => outcome.detail ?? `${row.service}: ${outcome.state}`).then(services.reload);
          }}
        />
      )}
    </section>
  );
}

export function Crons({ app, workspace }: { app: string; workspace: string }) {
  const now = useTick(1000);
  const crons = useLive<CronRow[]>(`/crons?app=${seg(app)}`, ['job.update'], forApp(app), 300);
  const rows = crons.data ?? [];
  const allowed = can(NEEDS.deploy, workspace);
  return (
    <section class="card">
      <h2>Crons</h2>
      {rows.length === 0 ? (
        <div class="muted">{crons.data ? 'No crons.' : 'Loading…'}</div>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>Cron</th>
              <th>Schedule</th>
              <th>Next</th>
              <th>Last</th>
              {allowed && <th />}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.name} data-cron={row.name}>
                <td>
                  <span class="strong">{row.name}</span>
                  <div class="muted mono small ellipsis" title={row.target}>
                    {row.target}
                  </div>
                </td>
                <td class="mono">{row.schedule}</td>
                <td>{ago(row.nextRun, now)}</td>
                <td>
                  {row.lastResult ? <StateBadge state={row.lastResult} /> : <span class="muted">never</span>}
                  {row.lastStarted && <span class="muted small"> {ago(row.lastStarted, now)}</span>}
                </td>
                {allowed && (
                  <td class="actions">
                    <button onClick={() => void act(`run ${row.name}`, () => post<{ job: string; state: string; detail: string | null }>(`/apps/${seg(app)}/crons/${seg(row.name)}/run?wait=0`), (run) => `${row.name}: ${run.state}${run.detail ? ` — ${run.detail}` : ''}`)}>Run now</button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The environment, masked as the API answers it; revealed only for those who may see credentials (and only if the API agrees). */
export function Environment({ app, workspace }: { app: string; workspace: string }) {
  const masked = useLive<Record<string, string>>(`/apps/${seg(app)}/env`, ['job.update'], forApp(app), 1000);
  const [revealed, setRevealed] = useState<Record<string, string>>();
  const [refused, setRefused] = useState<string>();
  const env = revealed ?? masked.data ?? {};
  const names = Object.keys(env).sort();
  return (
    <section class="card">
      <h2>
        Environment
        <span class="spacer" />
        {can(NEEDS.credentials, workspace) &&
          (revealed ? (
            <button onClick={() => setRevealed(undefined)}>Hide secrets</button>
          ) : (
            <button
              onClick={() =>
                get<Record<string, string>>(`/apps/${seg(app)}/env?show_secrets=true`).then(
                  (value) => {
                    setRevealed(value);
                    setRefused(undefined);
                  },
                  (error: Error) => setRefused(error instanceof ApiError && error.hint ? `${error.message} (${error.hint})` : error.message),
                )
              }
            >
              Reveal secrets
            </button>
          ))}
      </h2>
      {refused && <p class="error">{refused}</p>}
      {masked.error ? (
        <div class="muted">{masked.error.message}</div>
      ) : names.length === 0 ? (
        <div class="muted">{masked.data ? 'No variables.' : 'Loading…'}</div>
      ) : (
        <table class="grid env">
          <tbody>
            {names.map((name) => (
              <tr key={name}>
                <td class="mono strong">{name}</td>
                <td class={`mono ellipsis ${/\*{3}|•{3}|<masked>|\*\*\*\*/.test(env[name]!) ? 'masked' : ''}`} title={revealed ? undefined : env[name]}>
                  {env[name]}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** A failing process's last lines (what it said before it exited): usually the reason, without opening the logs. */
export function LastWords({ app, process }: { app: string; process: Process }) {
  const name = `${process.instance}.${process.index}`;
  const logs = useLive<LogLineRow[]>(`/apps/${seg(app)}/logs?lines=300`, ['instance.state'], (event: { app: string; instance: string; index: number }) => event.app === app && `${event.instance}.${event.index}` === name, 300);
  const lines = (logs.data ?? []).filter((line) => line.source === name).slice(-12);
  return (
    <section class="card failing" aria-label={`${name} is failing`}>
      <h2>
        <StateBadge state={process.state} /> {name}
        {process.exitCode !== null && <span class="muted">exited with code {process.exitCode}</span>}
        <span class="muted">· restarted {process.restarts} times</span>
        <span class="spacer" />
        <a class="small" href={href({ page: 'logs', app })}>
          all logs →
        </a>
      </h2>
      <pre class="log small">
        {lines.length === 0 ? (
          <span class="muted">{logs.data ? 'It printed nothing.' : '…'}</span>
        ) : (
          lines.map((line, index) => (
            <div key={index} class={`line line-${line.stream}`}>
              <span class="time">{clock(line.time)}</span> {line.line}
            </div>
          ))
        )}
      </pre>
    </section>
  );
}

export function RecentJobs({ app }: { app: string }) {
  const now = useTick(1000);
  const jobs = useLive<JobRow[]>(`/jobs?app=${seg(app)}`, ['job.update'], forApp(app), 200);
  const rows = (jobs.data ?? []).slice(0, 8);
  return (
    <section class="card">
      <h2>
        Recent jobs
        <span class="spacer" />
        <a class="small" href={href({ page: 'jobs' })}>
          all jobs →
        </a>
      </h2>
      {rows.length === 0 ? (
        <div class="muted">{jobs.data ? 'No jobs yet.' : 'Loading…'}</div>
      ) : (
        <table class="grid jobs-table">
          <tbody>
            {rows.map((job) => (
              <tr key={job.id}>
                <td>
                  <StateBadge state={job.state} />
                </td>
                <td>
                  <a href={href({ page: 'jobs', job: job.id })}>{job.title}</a>
                  {job.detail && <span class="muted small"> {job.detail}</span>}
                </td>
                <td class="muted num" title={clock(job.createdAt)}>
                  {ago(job.createdAt, now)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
