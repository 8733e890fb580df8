import { Platform } from '../../engine/index.js';
import { loadManifest } from '../../manifest/index.js';
import { readState } from '../read-state.js';
import { table } from '../output.js';

const when = (at: number | null) => (at === null ? '-' : new Date(at).toISOString().replace('T', ' ').slice(0, 19));

/** `paasmaker cron list [APP]`: every cron of the apps that ran, with its next run and last outcome. */
export async function cronList(app: string | undefined, options: { json?: boolean }): Promise<number> {
  const rows = readState((state) => state.crons.list(app)) ?? [];
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write('No crons. Declare one under instances.<type>.crons: [{schedule: "*/5 * * * *", uri: /tasks/cleanup}]\n');
    return 0;
  }
  process.stdout.write(
    table(
      ['app', 'cron', 'schedule', 'runs', 'next', 'last', 'result'],
      rows.map((row) => [row.app, row.name, row.schedule, row.target, when(row.nextRun), when(row.lastStarted), row.lastResult ? `${row.lastResult} (${row.lastDetail ?? ''})` : '-']),
    ),
  );
  return 0;
}

/** `paasmaker cron run NAME`: runs one cron of the project now. */
export async function cronRun(name: string, options: { dir: string }): Promise<number> {
  const manifest = loadManifest(options.dir);
  const platform = await Platform.open();
  platform.on('log.line', (event) => process.stdout.write(`${event.source} | ${event.line}\n`));
  try {
    const outcome = await platform.runCron(manifest, name);
    return outcome.ok ? 0 : 1;
  } finally {
    await platform.close();
  }
}
