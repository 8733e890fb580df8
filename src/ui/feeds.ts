import { callApi, followEvents, type AppRow, type ProcessRow, type ServiceRow, type Status, type WarningRow } from '../api/index.js';
import type { JobUpdateEvent, LogLineEvent, Platform } from '../engine/index.js';
import type { ResolvedManifest } from '../manifest/index.js';
import { primaryUrl } from '../shared/app-urls.js';
import type { Degraded } from '../shared/disk-space.js';
import { versionText } from '../shared/version-text.js';
import { degradedText, LogRing, warningText, type Feed, type ProcessView, type ServiceView, type Snapshot, type VersionView } from './model.js';

// A failure says why (an app that is not up: which process, and the likely fix).
const jobText = (event: JobUpdateEvent) => `${event.title}: ${event.state === 'running' ? 'running…' : event.state}${event.state === 'failed' && event.detail ? ` — ${event.detail}` : ''}`;

// CPU and memory as the platform samples them (the process group's, every ~2 s).
// Its URL: https while the router listens with TLS, else http.
function view(row: ProcessRow): ProcessView {
  return { key: `${row.app}/${row.instance}.${row.index}`, app: row.app, instance: row.instance, index: row.index, name: `${row.instance}.${row.index}`, state: row.state, pid: row.pid, port: row.port, url: primaryUrl(row), restarts: row.restarts, rps: row.rps, cpu: row.cpu ?? null, memory: row.memory ?? null };
}

const versionsOf = (apps: Array<Pick<AppRow, 'name' | 'version' | 'servedBy'>>): VersionView[] =>
  apps.flatMap((app) => {
    const text = versionText(app);
    return text === null ? [] : [{ app: app.name, text }];
  });

/** The UI of a foreground `up`: the engine in this process, one app. */
export class EngineFeed implements Feed {
  private readonly logs = new LogRing();
  private job: string | null = null;

  constructor(
    private readonly platform: Platform,
    private readonly manifest: ResolvedManifest,
    private readonly stopAll: () => Promise<void>,
  ) {
    const app = manifest.application.name;
    platform.on('log.line', (event: LogLineEvent) => {
      if (event.app === app || event.app === '') this.logs.push({ source: event.source, app: event.app || app, stream: event.stream, line: event.line, time: event.time });
    });
    platform.on('job.update', (event: JobUpdateEvent) => {
      if (event.app === app) this.job = jobText(event);
    });
  }

  private stateRows: { at: number; processes: ProcessView[]; services: ServiceView[]; versions: VersionView[] } = { at: 0, processes: [], services: [], versions: [] };

  snapshot(): Snapshot {
    const app = this.manifest.application.name;
    return {
      title: app,
      routerUrl: primaryUrl(this.platform.appUrls(app)),
      job: this.job,
      degraded: degradedText(this.platform.degraded),
      warnings: this.platform.warnings.list(app).map(warningText),
      quit: `q stop ${app} and quit`,
      ...this.fromState(),
      logs: this.logs.all(),
    };
  }

  /** Processes, services and the current version from state at most four times a second; the log pane may redraw more often. */
  private fromState(): { processes: ProcessView[]; services: ServiceView[]; versions: VersionView[] } {
    const now = Date.now();
    if (now - this.stateRows.at >= 250) {
      const app = this.manifest.application.name;
      this.stateRows = {
        at: now,
        processes: this.platform.processes(app).map(view),
        services: this.platform.services.listFor(app).map((record) => ({ app, name: record.service, plugin: record.plugin, resource: record.resource })),
        versions: versionsOf([{ name: app, ...this.platform.serving(app) }]),
      };
    }
    return { processes: this.stateRows.processes, services: this.stateRows.services, versions: this.stateRows.versions };
  }

  async restart(process: ProcessView): Promise<void> {
    const ok = await this.platform.reload(process.app, { instances: [process.instance], reason: 'restart from the terminal UI' });
    if (!ok) throw new Error(`the new ${process.instance} did not start; the old one still serves`);
  }

  stop(process: ProcessView): Promise<string> {
    return this.platform.controlProcess(process.app, process, 'stop');
  }

  start(process: ProcessView): Promise<string> {
    return this.platform.controlProcess(process.app, process, 'start');
  }

  clearLogs(): void {
    this.logs.clear();
  }

  quit(): Promise<void> {
    return this.stopAll();
  }
}

/**
 * The UI over the daemon's API: every project (`paasmaker top`), or one that
 * this terminal holds (`paasmaker up` while the daemon runs: the attached
 * event stream keeps it running; quitting stops it).
 */
export class ApiFeed implements Feed {
  private readonly logs = new LogRing();
  private job: string | null = null;
  private rows: ProcessRow[] = [];
  private urls = new Map<string, string | null>();
  private services: ServiceView[] = [];
  private versions: VersionView[] = [];
  private degraded: Degraded | null = null;
  private warnings: string[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly stream: ReturnType<typeof followEvents>;

  constructor(
    private readonly socket: string,
    private readonly proxyPort: number | null,
    private readonly hold?: { app: string },
  ) {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), 1000);
    this.stream = followEvents(socket, { app: hold?.app, attach: Boolean(hold) }, (event, payload) => {
      if (event === 'log.line') {
        this.logs.push({ source: payload.source, app: payload.app, stream: payload.stream, line: payload.line, time: payload.time ?? Date.now() });
      } else if (event === 'job.update') {
        this.job = this.hold ? jobText(payload) : `${payload.app} ${jobText(payload)}`;
      }
    });
  }

  private async poll(): Promise<void> {
    try {
      const [rows, apps, services, status, warnings] = await Promise.all([
        callApi<ProcessRow[]>(this.socket, 'GET', '/api/v1/processes'),
        callApi<AppRow[]>(this.socket, 'GET', '/api/v1/apps'),
        // Services only: the servers' rows measure their data folders, too much for every second.
        callApi<ServiceRow[]>(this.socket, 'GET', '/api/v1/services?kind=service'),
        callApi<Status>(this.socket, 'GET', '/api/v1/status'),
        // The daemon's warnings (the DNS port taken…): this terminal's own stderr says nothing of them. An older daemon has no such route: none.
        callApi<WarningRow[]>(this.socket, 'GET', `/api/v1/warnings${this.hold ? `?app=${encodeURIComponent(this.hold.app)}` : ''}`).catch(() => [] as WarningRow[]),
      ]);
      this.warnings = warnings.map(warningText);
      this.degraded = status.degraded ?? null;
      const running = new Set(apps.filter((app) => app.state !== 'stopped' && (!this.hold || app.name === this.hold.app)).map((app) => app.name));
      this.rows = rows.filter((row) => running.has(row.app));
      this.urls = new Map(apps.map((app) => [app.name, primaryUrl(app)]));
      this.versions = versionsOf(apps.filter((app) => running.has(app.name)));
      this.services = services.flatMap((row) => (row.kind === 'service' && row.app !== null && running.has(row.app) ? [{ app: row.app, name: row.service ?? row.name, plugin: row.plugin, resource: row.resource ?? '' }] : []));
    } catch {
      this.job = 'paasmaker does not answer';
    }
  }

  snapshot(): Snapshot {
    return {
      title: this.hold ? this.hold.app : `paasmaker top · ${new Set(this.rows.map((row) => row.app)).size} app(s)`,
      routerUrl: (this.hold && this.urls.get(this.hold.app)) || (this.proxyPort ? `router :${this.proxyPort}` : null),
      job: this.job,
      degraded: degradedText(this.degraded),
      warnings: this.warnings,
      quit: this.hold ? `q stop ${this.hold.app} and quit` : 'q leave the UI (the apps run on; paasmaker down APP stops one)',
      processes: this.rows.map(view),
      services: this.services,
      versions: this.versions,
      logs: this.logs.all(),
    };
  }

  async restart(process: ProcessView): Promise<void> {
    await callApi(this.socket, 'POST', `/api/v1/apps/${encodeURIComponent(process.app)}/restart`, { instance: process.instance });
  }

  stop(process: ProcessView): Promise<string> {
    return this.control(process, 'stop');
  }

  start(process: ProcessView): Promise<string> {
    return this.control(process, 'start');
  }

  private async control(process: ProcessView, action: 'stop' | 'start'): Promise<string> {
    const path = `/api/v1/apps/${encodeURIComponent(process.app)}/processes/${encodeURIComponent(process.instance)}/${process.index}/${action}`;
    const row = await callApi<ProcessRow>(this.socket, 'POST', path, {}, 60_000);
    return row.state;
  }

  clearLogs(): void {
    this.logs.clear();
  }

  async quit(): Promise<void> {
    clearInterval(this.timer);
    if (this.hold) await callApi(this.socket, 'POST', `/api/v1/apps/${encodeURIComponent(this.hold.app)}/down`, { dev: true }).catch(() => undefined);
    this.stream.destroy();
  }
}
