/** The rows the API answers, as the platform declares them (src/shared/views.ts): the page and the API cannot disagree. */
import type { AppRow, CronRow, InstanceRow, JobLogLine, JobRow, LogLineRow, ProcessRow, RequestRecordRow, ServiceRow, TrafficRow, VersionRow, WarningRow } from '../../shared/views.js';

export type App = AppRow;
export type Process = ProcessRow;
export type Warning = WarningRow;
export type { CronRow, InstanceRow, JobLogLine, JobRow, LogLineRow, RequestRecordRow, ServiceRow, TrafficRow, VersionRow };

/** Processes that are failing: crashed, or restarting after an exit. */
export const failing = (process: Process) => process.state === 'crashed' || process.state === 'backoff' || process.state === 'failed';

/** What an app's badge says: its own state, unless a process of a running app is failing (then that process's state). */
export function shownState(app: App, processes: Process[]): string {
  const bad = app.state === 'running' ? (processes.find((process) => process.state === 'crashed') ?? processes.find(failing)) : undefined;
  return bad?.state ?? app.state;
}

export type { MailMessageRow, MailRow } from '../../shared/mail-views.js';

export const workspaceOf = (app: App | undefined) => app?.workspace ?? 'default';
