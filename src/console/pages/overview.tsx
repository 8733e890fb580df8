import { useEffect, useState } from 'preact/hooks';
import { Chart } from '../components/chart.js';
import { StateBadge } from '../components/state.js';
import { ago, DASH, rate } from '../lib/format.js';
import { href } from '../lib/route.js';
import { currentRate, trafficSeries, watchTraffic } from '../lib/traffic.js';
import { useLive, useTick } from '../lib/use-live.js';
import { versionText } from '../../shared/version-text.js';
import { failing, shownState, type App, type JobRow, type Process, type Warning } from '../lib/views.js';
import { primaryUrl } from '../../shared/app-urls.js';

const SPARK = [{ label: 'req/s', color: '--accent', fill: true }];

function Sparkline({ app }: { app: string }) {
  const series = trafficSeries(app, 60);
  return <Chart spark height={28} series={SPARK} data={[series.map((point) => point.at), series.map((point) => point.requests)]} />;
}

/** An app's processes as dots, one per process, coloured by state. */
function Dots({ processes }: { processes: Process[] }) {
  if (processes.length === 0) return <span class="muted">{DASH}</span>;
  const running = processes.filter((process) => process.state === 'running').length;
  return (
    <span class="dots" title={processes.map((process) => `${process.instance}.${process.index}: ${process.state}`).join('\n')}>
      {processes.map((process) => (
        <i key={`${process.instance}.${process.index}`} class={`dot dot-${process.state}`} />
      ))}
      <span class="count">
        {running}/{processes.length}
      </span>
    </span>
  );
}

/** An app's link: https while the router listens with TLS (the address shown without http://; https:// kept, so it says which). */
function UrlLink({ urls }: { urls: Pick<App, 'url' | 'httpsUrl'> }) {
  const url = primaryUrl(urls)!;
  return (
    <a href={url} title={urls.httpsUrl && urls.url ? `also ${urls.url}` : undefined} target="_blank" rel="noreferrer">
      {url.replace(/^http:\/\//, '').replace(/\/$/, '')}
    </a>
  );
}

function lastChange(app: App): number | null {
  return Math.max(Date.parse(app.deployedAt ?? '') || 0, Date.parse(app.reloadedAt ?? '') || 0) || null;
}

/** Every app at a glance: the failing ones and the platform's warnings first. */
export default function Overview() {
  const now = useTick(1000);
  const [, setTicks] = useState(0);
  useEffect(() => watchTraffic(() => setTicks((count) => count + 1)), []);
  const apps = useLive<App[]>('/apps', ['instance.state', 'job.update', 'app.deployed', 'version.changed']);
  const processes = useLive<Process[]>('/processes', ['instance.state'], () => true, 300);
  const jobs = useLive<JobRow[]>('/jobs', ['job.update'], () => true, 200);
  const warnings = useLive<Warning[]>('/warnings', ['platform.warning'], () => true, 300);

  if (apps.error) return <div class="empty">Could not list the apps: {apps.error.message}</div>;
  if (!apps.data) return <div class="empty loading">Loading…</div>;
  const byApp = new Map<string, Process[]>();
  for (const process of processes.data ?? []) byApp.set(process.app, [...(byApp.get(process.app) ?? []), process]);
  const troubled = (app: App) => app.state === 'failed' || (byApp.get(app.name) ?? []).some(failing);
  const order = (app: App) => (troubled(app) ? 0 : app.state === 'running' ? 1 : app.state === 'stopped' ? 3 : 2);
  const list = [...apps.data].sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
  const problems = list.filter(troubled);
  const warningList = Array.isArray(warnings.data) ? warnings.data : [];
  const total = list.reduce((sum, app) => sum + currentRate(app.name), 0);
  const running = list.filter((app) => app.state === 'running').length;
  const procs = processes.data ?? [];

  return (
    <div class="page">
      <div class="stats">
        <div class="stat">
          <b>{list.length}</b>
          <span>apps</span>
        </div>
        <div class="stat">
          <b>{running}</b>
          <span>running</span>
        </div>
        <div class="stat">
          <b>
            {procs.filter((process) => process.state === 'running').length}/{procs.filter((process) => process.state !== 'stopped').length}
          </b>
          <span>processes up</span>
        </div>
        <div class="stat">
          <b>{rate(total)}</b>
          <span>req/s</span>
        </div>
        <div class={`stat ${problems.length + warningList.length > 0 ? 'stat-bad' : ''}`}>
          <b>{problems.length + warningList.length}</b>
          <span>problems</span>
        </div>
      </div>

      {(problems.length > 0 || warningList.length > 0) && (
        <section class="card problems" aria-label="problems">
          <h2>Needs attention</h2>
          <ul>
            {problems.map((app) => {
              const bad = (byApp.get(app.name) ?? []).filter(failing);
              return (
                <li key={app.name}>
                  <StateBadge state={app.state === 'failed' ? 'failed' : (bad[0]?.state ?? app.state)} /> <a href={href({ page: 'app', app: app.name })}>{app.name}</a>{' '}
                  <span class="muted">{bad.length > 0 ? bad.map((process) => `${process.instance}.${process.index} ${process.state}${process.exitCode !== null ? ` (exit ${process.exitCode})` : ''}`).join(', ') : 'the last start failed'}</span>
                </li>
              );
            })}
            {warningList.map((warning, index) => (
              <li key={`w${index}`}>
                <span class="state state-busy">
                  <i />
                  warning
                </span>{' '}
                {warning.app && <a href={href({ page: 'app', app: warning.app })}>{warning.app}</a>} {warning.text} <span class="muted small">{ago(warning.time, now)}</span>
              </li>
            ))}
          </ul>
        </section>
      )}

      <section class="card">
        <h2>Apps</h2>
        {list.length === 0 ? (
          <div class="empty">
            No apps yet. Run <code>paasmaker up -d</code> in a project folder.
          </div>
        ) : (
          <table class="grid apps">
            <thead>
              <tr>
                <th>App</th>
                <th>State</th>
                <th>Processes</th>
                <th>URL</th>
                <th class="num">req/s</th>
                <th class="sparkcol">last minute</th>
                <th>Deployed</th>
              </tr>
            </thead>
            <tbody>
              {list.map((app) => (
                <tr key={app.name} data-app={app.name} class={troubled(app) ? 'row-bad' : ''}>
                  <td>
                    <a class="strong" href={href({ page: 'app', app: app.name })}>
                      {app.name}
                    </a>
                    {app.version !== null && <span class="tag" data-current-version={app.version}>{versionText(app)}</span>}
                    {app.workspace && app.workspace !== 'default' && <span class="tag">{app.workspace}</span>}
                  </td>
                  <td>
                    <StateBadge state={shownState(app, byApp.get(app.name) ?? [])} />
                  </td>
                  <td>
                    <Dots processes={(byApp.get(app.name) ?? []).filter((process) => process.state !== 'stopped' || app.state === 'stopped')} />
                  </td>
                  <td class="url">{primaryUrl(app) && app.state !== 'stopped' ? <UrlLink urls={app} /> : <span class="muted">{DASH}</span>}</td>
                  <td class="num mono">{rate(currentRate(app.name))}</td>
                  <td class="sparkcol">
                    <Sparkline app={app.name} />
                  </td>
                  <td class="muted" title={app.reloadedAt ? `reloaded ${ago(app.reloadedAt, now)}` : undefined}>
                    {ago(lastChange(app), now)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section class="card">
        <h2>
          Activity
          <span class="spacer" />
          <a class="small" href={href({ page: 'jobs' })}>
            all jobs →
          </a>
        </h2>
        {(jobs.data ?? []).length === 0 ? (
          <div class="muted">{jobs.data ? 'Nothing has happened yet.' : 'Loading…'}</div>
        ) : (
          <table class="grid jobs-table">
            <tbody>
              {(jobs.data ?? []).slice(0, 8).map((job) => (
                <tr key={job.id}>
                  <td>
                    <StateBadge state={job.state} />
                  </td>
                  <td>
                    <a href={href({ page: 'jobs', job: job.id })}>{job.title}</a> <span class="muted">· {job.app}</span>
                    {job.detail && <span class="muted small"> — {job.detail}</span>}
                  </td>
                  <td class="muted num">{ago(job.createdAt, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
