import { callApi } from '../../api/client.js';
import type { TrafficRow } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { fromPlatform, requireKnownApp } from '../running-platform.js';
import { PaasmakerError } from '../../shared/errors.js';
import { byteSize, interrupted, table } from '../output.js';

type Options = { json?: boolean; window: string; follow?: boolean };

export default defineCommand<Options>({
  name: 'stats',
  description: 'router traffic per app instance: requests, status classes, bytes, latency',
  arguments: [{ name: '[app]', description: 'only this app', completes: 'app' }],
  options: [
    { flags: '--json', description: 'print a JSON array of flat objects' },
    { flags: '--window <seconds>', description: 'how far back to count', default: '60' },
    { flags: '-f, --follow', description: 'refresh every second until Ctrl-C (with --json: one array a line)' },
  ],
  examples: ['paasmaker stats', 'paasmaker stats -f          refresh every second', 'paasmaker stats shop --window 300 --json'],
  run: ({ args, options }) => stats(args[0] as string | undefined, options),
});


/** `paasmaker stats`: what went through the router, per app instance type, over a window (from the running platform, else the read-only view). */
async function stats(app: string | undefined, options: Options): Promise<number> {
  const window = Number(options.window);
  if (!Number.isInteger(window) || window < 1 || window > 86_400) {
    throw new PaasmakerError('USAGE', `--window must be a whole number of seconds, at most a day (got "${options.window}")`, { hint: 'for example: paasmaker stats --window 300' });
  }
  await requireKnownApp(app, 'stats');
  const query = new URLSearchParams({ window: String(window), ...(app ? { app } : {}) });
  const read = () =>
    fromPlatform(
      (socket) => callApi<TrafficRow[]>(socket, 'GET', `/api/v1/stats?${query}`, undefined, 5000),
      async () => {
        const [{ readState }, { listTraffic }] = await Promise.all([import('../read-state.js'), import('../../engine/index.js')]);
        return readState((state) => listTraffic(state, { app, windowSeconds: window })) ?? [];
      },
    );
  if (!options.follow) {
    process.stdout.write(render(await read(), window, Boolean(options.json), true));
    return 0;
  }
  // As docker stats: the screen redrawn in place on a terminal, a table (or a JSON line) after another elsewhere.
  const redraw = process.stdout.isTTY && !options.json;
  let stop = false;
  const interrupt = interrupted().then(() => (stop = true));
  while (!stop) {
    const text = render(await read(), window, Boolean(options.json), false);
    process.stdout.write(redraw ? `\u001b[H\u001b[2J${text}` : options.json ? text : `${text}\n`);
    await Promise.race([interrupt, new Promise((resolveWait) => setTimeout(resolveWait, 1000))]);
  }
  return 0;
}

/** The rows as a table (or JSON: indented once, a line each when following). */
function render(rows: TrafficRow[], window: number, json: boolean, once: boolean): string {
  if (json) return `${once ? JSON.stringify(rows, null, 2) : JSON.stringify(rows)}\n`;
  if (rows.length === 0) return `No traffic through the router in the last ${window} s.\n`;
  const ms = (value: number | null) => (value === null ? '-' : `${value} ms`);
  return table(
    ['app', 'instance', 'requests', 'req/s', '2xx', '3xx', '4xx', '5xx', 'in', 'out', 'p50', 'p99'],
    rows.map((row) => [row.app, row.instance, String(row.requests), String(row.rps), String(row.s2xx), String(row.s3xx), String(row.s4xx), String(row.s5xx), byteSize(row.bytesIn), byteSize(row.bytesOut), ms(row.p50), ms(row.p99)]),
  );
}
