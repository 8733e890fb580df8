/**
 * The rows the API answers, as the platform declares them (src/shared/views.ts),
 * plus fields newer platforms add: a page renders "—" when one is missing.
 */
import type { AppRow, CronRow, InstanceRow, JobLogLine, JobRow, LogLineRow, ProcessRow, ServiceRow, TrafficRow } from '../../shared/views.js';

/** deployedAt, reloadedAt: ISO times (newer platforms). */
export type App = AppRow & { workspace?: string; deployedAt?: string | null; reloadedAt?: string | null };
export type Process = ProcessRow & { cpu?: number | null; memory?: number | null };
export type { CronRow, InstanceRow, JobLogLine, JobRow, LogLineRow, ServiceRow, TrafficRow };

/** A warning of GET /api/v1/warnings (whatever else it carries, it has something to say). */
export interface Warning {
  time?: string;
  app?: string | null;
  message?: string;
  text?: string;
  hint?: string | null;
  kind?: string;
  code?: string;
}

export const warningText = (warning: Warning) => warning.message ?? warning.text ?? JSON.stringify(warning);

/** Processes that are failing: crashed, or restarting after an exit. */
export const failing = (process: Process) => process.state === 'crashed' || process.state === 'backoff' || process.state === 'failed';

export const workspaceOf = (app: App | undefined) => app?.workspace ?? 'default';
