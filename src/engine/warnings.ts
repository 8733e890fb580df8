import type { DiskSpace } from '../shared/disk-space.js';
import type { WarningRow } from '../shared/views.js';
import type { EventSink } from './events.js';

/** How many warnings the platform keeps: the recent ones, not a log (the daemon's log has them all). */
const KEPT = 100;

/**
 * What the platform could not do as asked, kept in memory for every face
 * (GET /api/v1/warnings, the TUI's status line, the console) and sent out
 * as `platform.warning` events as it happens.
 */
export class Warnings {
  private readonly rows: WarningRow[] = [];

  constructor(private readonly events: EventSink) {}

  raise(text: string, app: string | null = null): void {
    const row: WarningRow = { time: new Date().toISOString(), text, app };
    this.rows.push(row);
    if (this.rows.length > KEPT) this.rows.splice(0, this.rows.length - KEPT);
    this.events.emit('platform.warning', row);
  }

  /** Oldest first; with app, that app's and the platform's own. */
  list(app?: string): WarningRow[] {
    return this.rows.filter((row) => app === undefined || row.app === null || row.app === app);
  }
}

/** The platform's warnings, with the ones it raises by itself: a full disk. */
export function platformWarnings(parts: { events: EventSink; space: DiskSpace }): Warnings {
  const warnings = new Warnings(parts.events);
  parts.space.on('change', (degraded) => {
    if (degraded) warnings.raise(`${degraded.reason}; apps and routing go on, state and logs wait for room`);
  });
  return warnings;
}
