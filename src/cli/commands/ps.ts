import { callApi } from '../../api/client.js';
import type { ProcessRow, Status } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { fromPlatform, requireKnownApp } from '../running-platform.js';
import { colorEnabled, formatDuration, painter, table } from '../output.js';
import { urlsText } from '../../shared/app-urls.js';
import { cpuText, memoryText } from '../../shared/usage-text.js';

type Options = { json?: boolean; all?: boolean };

export default defineCommand<Options>({
  name: 'ps',
  description: 'list the processes of the apps that run: app, instance, index, state, pid, port, restarts, uptime, CPU and memory; then where the router reaches them',
  arguments: [{ name: '[app]', description: 'only this app', completes: 'app' }],
  options: [
    { flags: '-a, --all', description: 'stopped apps too (for a week after they stopped)' },
    { flags: '--json', description: 'print a JSON array of flat objects' },
  ],
  examples: ['paasmaker ps', 'paasmaker ps -a     stopped apps too', 'paasmaker ps shop --json'],
  run: ({ args, options }) => ps(args[0] as string | undefined, options),
});

const STATE_COLORS = { running: 'green', starting: 'yellow', stopping: 'yellow', backoff: 'red', crashed: 'red', exited: 'gray', stopped: 'gray' } as const;

/** A process that ended by itself says how: "exited (0)", "crashed (1)". */
const stateText = (row: ProcessRow) => ((row.state === 'exited' || row.state === 'crashed') && row.exitCode !== null ? `${row.state} (${row.exitCode})` : row.state);

/**
 * `paasmaker ps`: the process slots of the apps that run (-a: stopped apps
 * too), from the running platform, else from the read-only view of state.
 * An app no listing knows is an error, as it is for `down`.
 */
async function ps(app: string | undefined, options: Options): Promise<number> {
  const query = new URLSearchParams({ ...(app ? { app } : {}), ...(options.all ? {} : { running: 'true' }) });
  await requireKnownApp(app, 'ps');
  const { rows, status } = await fromPlatform(
    async (socket) => {
      const [rows, status] = await Promise.all([
        callApi<ProcessRow[]>(socket, 'GET', `/api/v1/processes?${query}`, undefined, 5000),
        callApi<Status>(socket, 'GET', '/api/v1/status', undefined, 5000),
      ]);
      return { rows, status: status as Status | undefined };
    },
    // Loaded only when nothing runs: ps asking a platform stays as quick as --version.
    async () => {
      const [{ readState }, { listProcesses }] = await Promise.all([import('../read-state.js'), import('../../engine/index.js')]);
      return { rows: readState((state) => listProcesses(state, { app, running: !options.all })) ?? [], status: undefined };
    },
  );
  // A platform that cannot write (a full disk) says so first: what follows may be behind.
  if (status?.degraded) {
    const { degradedLine } = await import('../degraded.js');
    (options.json ? process.stderr : process.stdout).write(`${painter(colorEnabled())('red', degradedLine({ pid: status.pid, degraded: status.degraded }))}\n`);
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    const stopped = options.all ? '' : ' (paasmaker ps -a shows stopped apps too)';
    process.stdout.write(app ? `App "${app}" is not running${stopped}.\n` : options.all ? 'No apps yet. Start one with: paasmaker up [DIR]\n' : `No app is running. Start one with: paasmaker up [DIR]${stopped}\n`);
    return 0;
  }
  const paint = painter(colorEnabled());
  const body = rows.map((row) => [
    row.app,
    `${row.instance}.${row.index}`,
    stateText(row),
    row.pid === null ? '-' : String(row.pid),
    row.port === null ? '-' : String(row.port),
    String(row.restarts),
    row.uptime === null ? '-' : formatDuration(row.uptime * 1000),
    row.rps === 0 ? '-' : String(row.rps),
    cpuText(row.cpu ?? null),
    memoryText(row.memory ?? null),
  ]);
  const text = table(['app', 'instance', 'state', 'pid', 'port', 'restarts', 'uptime', 'req/s', 'cpu', 'mem'], body);
  // Colour the state column after alignment, so escapes never skew the widths.
  const lines = text.split('\n');
  const out = lines.map((line, i) => {
    const row = rows[i - 1];
    if (!row || !paint.enabled) return line;
    const color = STATE_COLORS[row.state as keyof typeof STATE_COLORS];
    return color ? line.replace(` ${stateText(row)} `, ` ${paint(color, stateText(row))} `) : line;
  });
  process.stdout.write(out.join('\n') + urlLines(rows));
  return 0;
}

/**
 * Below the table, where the router reaches each routed instance type, once
 * a type: https first while it listens with TLS, then plain http ("shop web
 * https://shop.localhost:7655/ (or http://shop.localhost:7654/)"). --json
 * has both on every row, as url and httpsUrl.
 */
function urlLines(rows: ProcessRow[]): string {
  const seen = new Map<string, string>();
  for (const row of rows) {
    const text = urlsText(row);
    const type = `${row.app} ${row.instance}`;
    if (text && !seen.has(type)) seen.set(type, text);
  }
  if (seen.size === 0) return '';
  const width = Math.max(...[...seen.keys()].map((type) => type.length));
  return `\n${[...seen].map(([type, text]) => `${type.padEnd(width)}  ${text}\n`).join('')}`;
}
