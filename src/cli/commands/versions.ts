import type { VersionRow } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { byteSize, colorEnabled, formatDuration, painter, table } from '../output.js';
import { segment, versionsApi, versionsApp } from '../versions-api.js';
import { primaryUrl } from '../../shared/app-urls.js';

type Options = { json?: boolean };

export default defineCommand<Options>({
  name: 'versions',
  description: "an app's deployed versions: which is current (*) and previous (-), state, commit, message, size, URL",
  arguments: [{ name: '[app]', description: 'the app (default: the project in this folder)', completes: 'app' }],
  options: [{ flags: '--json', description: 'print the JSON array of versions' }],
  examples: ['paasmaker versions', 'paasmaker versions shop --json', 'paasmaker versions prune shop --keep 5'],
  run: ({ args, options }) => versions(args[0] as string | undefined, options),
});

const STATE_COLORS = { running: 'green', starting: 'yellow', preparing: 'yellow', failed: 'red', stopped: 'gray' } as const;

/** "3*" for the current version, "2-" for the previous one. */
const label = (row: VersionRow) => `${row.version}${row.current ? '*' : row.previous ? '-' : ''}`;
const commitText = (row: VersionRow) => `${row.commit ? row.commit.slice(0, 7) : '-'}${row.dirty ? '+dirty' : ''}`;

/** A message cut to a width, with an ellipsis when cut. */
function cut(text: string | null, width: number): string {
  const line = (text ?? '-').split('\n')[0]!;
  return line.length <= width ? line : `${line.slice(0, Math.max(1, width - 1))}…`;
}

/** `paasmaker versions [APP]`: the app's versions, newest first. */
async function versions(name: string | undefined, options: Options): Promise<number> {
  const app = await versionsApp(name, 'paasmaker versions APP, or run it in the project folder');
  const rows = await versionsApi<VersionRow[]>('GET', `/api/v1/apps/${segment(app)}/versions`);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write(`${app} has no deployed version yet. Make one with: paasmaker deploy\n`);
    return 0;
  }
  const headers = ['version', 'state', 'serving', 'commit', 'message', 'created', 'size', 'url'];
  const body = rows.map((row) => [label(row), row.state, row.serving ? 'yes' : '-', commitText(row), '', `${formatDuration(Date.now() - Date.parse(row.created))} ago`, byteSize(row.size), primaryUrl(row) ?? '-']);
  // The message takes what the terminal's width leaves once the other columns are laid out (its header's width at least).
  const others = Math.max(...table(headers, body).split('\n').map((line) => line.length)) - 'message'.length;
  const room = process.stdout.isTTY && process.stdout.columns ? Math.max('message'.length, process.stdout.columns - others) : 60;
  rows.forEach((row, i) => (body[i]![4] = cut(row.message ?? row.source, room)));
  const paint = painter(colorEnabled());
  const lines = table(headers, body).split('\n');
  process.stdout.write(
    lines
      .map((line, i) => {
        const row = rows[i - 1];
        if (!row || !paint.enabled) return line;
        return line.replace(` ${row.state} `, ` ${paint(STATE_COLORS[row.state], row.state)} `);
      })
      .join('\n'),
  );
  const current = rows.find((row) => row.current);
  if (current && !current.serving && current.state === 'running') process.stdout.write(`${app} v${current.version} is current; a development up of ${app} holds ${app}.localhost while it runs\n`);
  return 0;
}
