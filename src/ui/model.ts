/** One process row as the terminal UI shows it. */
export interface ProcessView {
  /** "shop/web.0": unique across apps. */
  key: string;
  app: string;
  instance: string;
  index: number;
  /** "web.0" */
  name: string;
  state: string;
  pid: number | null;
  port: number | null;
  url: string | null;
  restarts: number;
  rps: number;
  /** Percent of one core since the last sample; null when unknown. */
  cpu: number | null;
  /** Resident memory, bytes. */
  memory: number | null;
}

export interface ServiceView {
  app: string;
  name: string;
  plugin: string;
  resource: string;
}

export interface LogView {
  /** "web.0", "web:prepare", "services", "cron"… */
  source: string;
  app: string;
  stream: 'out' | 'err' | 'system';
  line: string;
  /** When it was written, ms since the epoch. */
  time: number;
  /** Its place in the feed's log: grows by one a line, so a scrolled pane holds on to its lines while new ones come. */
  seq: number;
}

/** Everything one frame of the UI draws: plain data, so views are pure and testable. */
export interface Snapshot {
  /** The project (`up`), or what `top` watches. */
  title: string;
  routerUrl: string | null;
  /** The job running now, or the last one's outcome. */
  job: string | null;
  /** Set while the platform runs degraded (a full disk): what the status line says of it. */
  degraded: string | null;
  /** Warnings of the platform (the DNS responder's port taken…), newest last. */
  warnings: string[];
  /** What q does, as the help says it: `up` stops the project, `top` only leaves. */
  quit: string;
  processes: ProcessView[];
  services: ServiceView[];
  /** The current version of each app shown that has one, as versionText says it ("v3", "v3 (dev serving)"). */
  versions: VersionView[];
  logs: LogView[];
}

export interface VersionView {
  app: string;
  text: string;
}

/** What the UI can ask of whatever feeds it (the engine in `up`, the daemon's API in `top`). */
export interface Feed {
  snapshot(): Snapshot;
  restart(process: ProcessView): Promise<void>;
  /** Stops one process; it stays stopped (the others serve) until start. Resolves with the state it settled in. */
  stop(process: ProcessView): Promise<string>;
  start(process: ProcessView): Promise<string>;
  clearLogs(): void;
  /** q: `up` stops everything; `top` only leaves. */
  quit(): Promise<void>;
}

/** The status line's words for degraded mode. */
export function degradedText(degraded: { since: number } | null | undefined): string | null {
  return degraded ? `DEGRADED since ${new Date(degraded.since).toTimeString().slice(0, 8)}: the disk is full, state and logs wait (paasmaker doctor)` : null;
}

/** A bounded log: the UI keeps the last lines, the files keep everything. */
export class LogRing {
  private readonly lines: LogView[] = [];
  private next = 0;

  constructor(private readonly size = 5000) {}

  push(line: Omit<LogView, 'seq'>): void {
    // One literal of one shape (a spread makes a larger object, and the ring keeps thousands).
    this.lines.push({ source: line.source, app: line.app, stream: line.stream, line: line.line, time: line.time, seq: this.next++ });
    if (this.lines.length > this.size * 1.2) this.lines.splice(0, this.lines.length - this.size);
  }

  /** The buffer itself (at most 20% over size): read it, do not keep it. */
  all(): LogView[] {
    return this.lines;
  }

  clear(): void {
    this.lines.length = 0;
  }
}

/** A warning as the status line says it: its first line, with the app it concerns. */
export function warningText(warning: { text: string; app: string | null }): string {
  return `${warning.app ? `${warning.app}: ` : ''}${warning.text.split('\n')[0]}`;
}
