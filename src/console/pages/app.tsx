import { useEffect, useState } from 'preact/hooks';
import { Chart, type ChartSeries } from '../components/chart.js';
import { StateBadge } from '../components/state.js';
import { act } from '../components/toasts.js';
import { post, seg } from '../lib/api.js';
import { ago, bytes, DASH, ms, percent, rate, span } from '../lib/format.js';
import { href } from '../lib/route.js';
import { can, NEEDS } from '../lib/session.js';
import { heldSeconds, trafficSeries, watchTraffic } from '../lib/traffic.js';
import { useLive, useTick } from '../lib/use-live.js';
import { failing, shownState, workspaceOf, type App, type InstanceRow, type Process, type TrafficRow } from '../lib/views.js';
import { useProcessOverlay } from '../lib/process-overlay.js';
import { Crons, Environment, LastWords, RecentJobs, Services } from './app-parts.js';
import { Versions } from './app-versions.js';
import { primaryUrl } from '../../shared/app-urls.js';

const WINDOW_S = 300;
const SERIES: ChartSeries[] = [
  { label: '2xx', color: '--ok' },
  { label: '3xx', color: '--info' },
  { label: '4xx', color: '--warn' },
  { label: '5xx', color: '--bad' },
  { label: 'p50', color: '--muted', scale: 'ms' },
  { label: 'p99', color: '--accent', scale: 'ms' },
];

function Traffic({ app }: { app: string }) {
  const [, setTicks] = useState(0);
  useTick(1000);
  useEffect(() => watchTraffic(() => setTicks((count) => count + 1)), []);
  const stats = useLive<TrafficRow[]>(`/stats?app=${seg(app)}&window=${WINDOW_S}`, ['traffic.tick'], (tick: { samples: Array<{ app: string }> }) => tick.samples.some((sample) => sample.app === app), 1000);
  // The page holds what it saw since it opened: the chart grows to five minutes rather than start mostly empty.
  const series = trafficSeries(app, heldSeconds(WINDOW_S));
  const data = [series.map((point) => point.at), ...[2, 3, 4, 5].map((index) => series.map((point) => point.statuses[index] ?? 0)), series.map((point) => point.p50), series.map((point) => point.p99)];
  const rows = stats.data ?? [];
  const total = rows.reduce((sum, row) => sum + row.requests, 0);
  const errors = rows.reduce((sum, row) => sum + row.s5xx, 0);
  const p99 = rows.reduce<number | null>((worst, row) => (row.p99 === null ? worst : Math.max(worst ?? 0, row.p99)), null);
  const p50 = rows.reduce<number | null>((worst, row) => (row.p50 === null ? worst : Math.max(worst ?? 0, row.p50)), null);
  return (
    <section class="card">
      <h2>
        Traffic <span class="muted small">live; the numbers cover the last 5 minutes</span>
      </h2>
      <div class="kpis">
        <span>
          <b>{total}</b> requests
        </span>
        <span>
          <b>{rate(total / WINDOW_S)}</b> req/s avg
        </span>
        <span class={errors > 0 ? 'bad' : ''}>
          <b>{total ? percent((100 * errors) / total) : DASH}</b> 5xx
        </span>
        <span>
          <b>{ms(p50)}</b> p50
        </span>
        <span>
          <b>{ms(p99)}</b> p99
        </span>
        <span>
          <b>{bytes(rows.reduce((sum, row) => sum + row.bytesOut, 0))}</b> out
        </span>
      </div>
      <Chart series={SERIES} data={data} height={200} />
    </section>
  );
}

function Processes({ app, workspace, rows, loaded, at }: { app: App; workspace: string; rows: Process[]; loaded: boolean; at: number }) {
  const now = useTick(1000);
  const instances = useLive<InstanceRow[]>(`/apps/${seg(app.name)}/instances`, ['instance.state'], (event: { app: string }) => event.app === app.name, 300);
  const allowed = can(NEEDS.deploy, workspace);
  const types = instances.data ?? [];
  return (
    <section class="card">
      <h2>Processes</h2>
      {types.length > 0 && (
        <div class="types">
          {types.map((type) => (
            <div class="type" key={type.name} data-instance={type.name}>
              <span class="strong">{type.name}</span>
              <span class="muted mono">{type.runtime}</span>
              {type.standalone && <span class="tag">no port</span>}
              <span class="muted mono ellipsis" title={type.command ?? ''}>
                {type.command ?? DASH}
              </span>
              <span class="spacer" />
              {allowed ? (
                <span class="stepper" aria-label={`scale ${type.name}`}>
                  <button aria-label={`scale ${type.name} down`} disabled={type.quantity === 0} onClick={() => void act(`scale ${type.name}`, () => post(`/apps/${seg(app.name)}/scale`, { instance: type.name, quantity: type.quantity - 1 }), () => `${type.name}: ${type.quantity - 1}`).then(instances.reload)}>
                    −
                  </button>
                  <b>{type.quantity}</b>
                  <button aria-label={`scale ${type.name} up`} onClick={() => void act(`scale ${type.name}`, () => post(`/apps/${seg(app.name)}/scale`, { instance: type.name, quantity: type.quantity + 1 }), () => `${type.name}: ${type.quantity + 1}`).then(instances.reload)}>
                    +
                  </button>
                </span>
              ) : (
                <span class="muted">×{type.quantity}</span>
              )}
              {allowed && (
                <button onClick={() => void act(`restart ${type.name}`, () => post(`/apps/${seg(app.name)}/restart`, { instance: type.name }), () => `${type.name} restarted`)}>
                  Restart
                </button>
              )}
            </div>
          ))}
        </div>
      )}
      <table class="grid processes">
        <thead>
          <tr>
            <th>Process</th>
            <th>State</th>
            <th class="num">PID</th>
            <th class="num">Port</th>
            <th class="num">Restarts</th>
            <th class="num">CPU</th>
            <th class="num">Memory</th>
            <th class="num">Uptime</th>
            <th class="num">req/s</th>
            {allowed && <th />}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={10} class="muted">
                {loaded ? 'No processes.' : 'Loading…'}
              </td>
            </tr>
          )}
          {rows.map((process) => {
            const name = `${process.instance}.${process.index}`;
            const stopped = process.state === 'stopped' || process.state === 'crashed';
            return (
              <tr key={name} data-process={name} class={process.state === 'crashed' || process.state === 'backoff' ? 'row-bad' : ''}>
                <td class="mono strong">{name}</td>
                <td>
                  <StateBadge state={process.state} />
                  {process.exitCode !== null && process.state !== 'running' && <span class="muted small"> exit {process.exitCode}</span>}
                </td>
                <td class="num mono">{process.pid ?? DASH}</td>
                <td class="num mono">{process.port ?? DASH}</td>
                <td class={`num mono ${process.restarts > 0 ? 'warn' : ''}`}>{process.restarts}</td>
                <td class="num mono">{percent(process.cpu)}</td>
                <td class="num mono">{bytes(process.memory)}</td>
                <td class="num mono">{process.uptime === null ? DASH : span(process.uptime + Math.max(0, (now - at) / 1000))}</td>
                <td class="num mono">{rate(process.rps)}</td>
                {allowed && (
                  <td class="actions">
                    {app.state !== 'stopped' &&
                      (stopped ? (
                        <button onClick={() => void act(`start ${name}`, () => post(`/apps/${seg(app.name)}/processes/${seg(process.instance)}/${process.index}/start`), () => `${name} started`)}>Start</button>
                      ) : (
                        <button onClick={() => void act(`stop ${name}`, () => post(`/apps/${seg(app.name)}/processes/${seg(process.instance)}/${process.index}/stop`), () => `${name} stopped`)}>Stop</button>
                      ))}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

/** The names the app answers to (the router's: <app>.localhost, .local.paasmaker, <type>.<app>.… for the other routed types). */
function hostnames(app: App, types: InstanceRow[]): string[] {
  const port = app.url ? new URL(app.url).port : '';
  const routed = types.filter((type) => !type.standalone);
  const primary = routed.find((type) => type.name === 'web') ?? routed[0];
  return routed.flatMap((type) => {
    const base = type === primary ? app.name : `${type.name}.${app.name}`;
    return [`${base}.localhost${port ? `:${port}` : ''}`, `${base}.local.paasmaker${port ? `:${port}` : ''}`];
  });
}

export default function AppPage({ place }: { place: { app: string } }) {
  // Re-renders for "3m ago"; each is measured from the render's own clock: the tick's would put a change made since it in the future.
  useTick(5000);
  const name = place.app;
  const app = useLive<App>(`/apps/${seg(name)}`, ['instance.state', 'job.update', 'app.deployed', 'version.changed'], (event: { app: string }) => event.app === name, 200);
  const types = useLive<InstanceRow[]>(`/apps/${seg(name)}/instances`, ['job.update'], (event: { app: string }) => event.app === name, 500);
  const processes = useLive<Process[]>(`/processes?app=${seg(name)}`, ['instance.state'], (event: { app?: string }) => event.app === name, 200);
  const rows = useProcessOverlay(name, processes.data ?? [], processes.at);
  if (app.error) return <div class="empty">{app.error.message}</div>;
  if (!app.data) return <div class="empty loading">Loading…</div>;
  const record = app.data;
  const workspace = workspaceOf(record);
  const allowed = can(NEEDS.deploy, workspace);
  return (
    <div class="page">
      <div class="crumbs">
        <a href="/">Overview</a> / <span>{name}</span>
      </div>
      <header class="apphead">
        <h1>{name}</h1>
        <StateBadge state={shownState(record, rows)} />
        {record.version !== null && (
          <span class="tag tag-on" data-current-version={record.version}>
            v{record.version}
          </span>
        )}
        {record.version !== null && record.servedBy === 'dev' && <span class="tag">dev up holds {name}.localhost</span>}
        {primaryUrl(record) && record.state !== 'stopped' && (
          <a class="mono" href={primaryUrl(record)!} target="_blank" rel="noreferrer">
            {primaryUrl(record)}
          </a>
        )}
        {record.httpsUrl && record.url && record.state !== 'stopped' && (
          <a class="mono muted" href={record.url} target="_blank" rel="noreferrer">
            {record.url}
          </a>
        )}
        <span class="spacer" />
        <a class="button" href={href({ page: 'logs', app: name })}>
          Logs
        </a>
        <a class="button" href={href({ page: 'requests', app: name })}>
          Requests
        </a>
        {can(NEEDS.viewServices, workspace) && (
          <a class="button" href={href({ page: 'mail', app: name })}>
            Mail
          </a>
        )}
        {allowed && record.state !== 'stopped' && (
          <button class="primary" onClick={() => void act(`restart ${name}`, () => post(`/apps/${seg(name)}/restart`, {}), () => `${name} restarted`)}>
            Restart
          </button>
        )}
        {allowed && record.servedBy === 'dev' && record.version !== null && (
          <button title={`the development up stops; v${record.version} answers on ${name}.localhost again`} onClick={() => void act(`stop the dev up of ${name}`, () => post<App>(`/apps/${seg(name)}/down`, { dev: true }), (after) => `${name}: ${after.version === null ? 'the dev up stopped' : `v${after.version} answers again`}`)}>
            Stop dev up
          </button>
        )}
        {allowed && record.state !== 'stopped' && <button onClick={() => void act(`stop ${name}`, () => post(`/apps/${seg(name)}/down`), () => `${name} stopped`)}>Stop app</button>}
        {allowed && record.state === 'stopped' && (
          // A deployed app starts its current version (never its version's folder as a development up).
          <button class="primary" onClick={() => void act(`start ${name}`, () => (record.version === null ? post('/apps', { directory: record.directory }) : post(`/apps/${seg(name)}/switch`, { version: record.version })), () => `${name} started`)}>
            Start app
          </button>
        )}
      </header>
      <dl class="facts">
        <dt>Folder</dt>
        <dd class="mono">{record.directory}</dd>
        <dt>Manifest</dt>
        <dd class="mono">{record.manifest}</dd>
        <dt>Workspace</dt>
        <dd>{workspace}</dd>
        <dt>Deployed</dt>
        <dd>{ago(record.deployedAt)}</dd>
        <dt>Reloaded</dt>
        <dd>{ago(record.reloadedAt)}</dd>
        <dt>Version</dt>
        <dd>{record.version === null ? 'none: it runs its folder' : record.servedBy === 'dev' ? `v${record.version}, on v${record.version}.${name}.localhost` : `v${record.version}`}</dd>
        <dt>Hostnames</dt>
        <dd class="mono">{hostnames(record, types.data ?? []).join('  ') || DASH}</dd>
      </dl>
      {record.state !== 'stopped' && rows.filter(failing).map((process) => <LastWords key={`${process.instance}.${process.index}`} app={name} process={process} />)}
      <Processes app={record} workspace={workspace} rows={rows} loaded={processes.data !== undefined} at={processes.at} />
      <Versions app={name} workspace={workspace} />
      <Traffic app={name} />
      <div class="columns">
        {can(NEEDS.viewServices, workspace) && <Services app={name} workspace={workspace} />}
        <Crons app={name} workspace={workspace} />
      </div>
      {can(NEEDS.viewEnvironment, workspace) && <Environment app={name} workspace={workspace} />}
      <RecentJobs app={name} />
    </div>
  );
}
