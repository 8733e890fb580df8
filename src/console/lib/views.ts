/** The rows the API answers, as the platform declares them (src/shared/views.ts): the page and the API cannot disagree. */
import type { AppRow, CronRow, InstanceRow, JobLogLine, JobRow, LogLineRow, ProcessRow, ServiceRow, TrafficRow, WarningRow } from '../../shared/views.js';

export type App = AppRow;
export type Process = ProcessRow;
export type Warning = WarningRow;
export type { CronRow, InstanceRow, JobLogLine, JobRow, LogLineRow, ServiceRow, TrafficRow };

/** Processes that are failing: crashed, or restarting after an exit. */
export const failing = (process: Process) => process.state === 'crashed' || process.state === 'backoff' || process.state === 'failed';

export const workspaceOf = (app: App | undefined) => app?.workspace ?? 'default';
