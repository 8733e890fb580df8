import type { CronRow } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { table } from '../output.js';
import { readFromPlatform, readView } from '../running-platform.js';

export default defineCommand<{ json?: boolean }>({
  name: 'cron list',
  description: 'every cron: schedule, what it runs, next run, last outcome',
  arguments: [{ name: '[app]', description: 'only this app', completes: 'app' }],
  options: [{ flags: '--json', description: 'print JSON' }],
  examples: ['paasmaker cron list', 'paasmaker cron list shop --json'],
  run: ({ args, options }) => cronList(args[0] as string | undefined, options),
});

const when = (at: number | null) => (at === null ? '-' : new Date(at).toISOString().replace('T', ' ').slice(0, 19));

/** Every cron row: from a running platform's API, else read from state (nothing is started). */
function cronRows(app: string | undefined): Promise<CronRow[]> {
  return readFromPlatform(`/api/v1/crons${app ? `?app=${encodeURIComponent(app)}` : ''}`, async () => (await readView((state) => state.crons.list(app))) ?? []);
}

/** `paasmaker cron list [APP]`: every cron of the apps that ran, with its next run and last outcome. */
async function cronList(app: string | undefined, options: { json?: boolean }): Promise<number> {
  const rows = await cronRows(app);
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

