import { resolve } from 'node:path';
import { callApi, followEvents } from '../../api/client.js';
import type { AppRow, RequestRecordRow } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { defineCommand } from '../command.js';
import { byteSize, colorEnabled, interrupted, painter, type Color } from '../output.js';
import { appPlatform, runningPlatform } from '../running-platform.js';

type Options = { follow?: boolean; json?: boolean; lines?: string; dir: string };

export default defineCommand<Options>({
  name: 'requests',
  description: "an app's last requests through the router: time, method, path, status, duration, bytes, the process that answered",
  arguments: [{ name: '[app]', description: 'the app (default: the project in this folder)', completes: 'app' }],
  options: [
    { flags: '-f, --follow', description: 'keep printing new requests as they come' },
    { flags: '-n, --lines <n>', description: 'how many recent requests to print (default 50; the router keeps 300 per app)' },
    { flags: '--json', description: 'print a JSON array of the records, headers included (with -f: one object a line)' },
    { flags: '-C, --dir <dir>', description: 'the project folder that names the app', default: '.', completes: 'dir' },
  ],
  examples: ['paasmaker requests             the project here', 'paasmaker requests shop -f     follow them live', 'paasmaker requests shop --json -n 5'],
  run: ({ args, options }) => requests(args[0] as string | undefined, options),
});

const COLUMNS = ['time', 'method', 'path', 'status', 'duration', 'out', 'instance', 'note'] as const;
/** Column widths while following (rows arrive one batch at a time, so widths cannot come from them). */
const FOLLOW_WIDTHS = [12, 7, 40, 6, 9, 9, 12, 0];

const STATUS_COLORS: Record<number, Color> = { 1: 'gray', 2: 'green', 3: 'cyan', 4: 'yellow', 5: 'red' };

const duration = (ms: number) => (ms < 10 ? `${ms.toFixed(1)} ms` : ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
/** Local time of day with milliseconds: what a developer compares with the clock and their app's log. */
const clock = (iso: string) => {
  const at = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, '0')}`;
};
const shorten = (text: string, width: number) => (width > 1 && text.length > width ? `${text.slice(0, width - 1)}…` : text);

function cells(record: RequestRecordRow): string[] {
  const note = record.answeredBy === 'app' ? (record.error ?? '') : record.answeredBy === 'router' ? `router: ${record.error ?? ''}` : (record.error ?? 'no answer');
  return [clock(record.time), record.method, record.path, record.status === null ? '-' : String(record.status), duration(record.durationMs), byteSize(record.bytesOut), record.upstream ?? record.instance, note];
}

/** One aligned line; the status coloured by its class, the note dimmed. */
function line(values: string[], widths: number[], status: number | null, paint: ReturnType<typeof painter>): string {
  const out = values.map((value, column) => {
    const width = widths[column]!;
    const text = column === 2 ? shorten(value, width) : value;
    const padded = column === values.length - 1 ? text : text.padEnd(width);
    if (column === 3 && status !== null) return paint(STATUS_COLORS[Math.floor(status / 100)] ?? 'gray', padded);
    if (column === values.length - 1 && text) return paint('dim', padded);
    return padded;
  });
  return out.join('  ').trimEnd();
}

const header = (widths: number[]) => COLUMNS.map((name, column) => (column === COLUMNS.length - 1 ? name.toUpperCase() : name.toUpperCase().padEnd(widths[column]!))).join('  ').trimEnd();

function parseCount(lines: string | undefined): number {
  if (lines === undefined) return 50;
  const count = Number(lines);
  if (!/^\d+$/.test(lines) || !Number.isSafeInteger(count)) throw new PaasmakerError('USAGE', `--lines must be a whole number (got "${lines}")`, { hint: 'for example: paasmaker requests -n 20' });
  return count;
}

/** The app named, else the project in the folder, else the only app there is. */
async function pickApp(name: string | undefined, dir: string, apps: string[]): Promise<string> {
  if (name) {
    if (apps.includes(name)) return name;
    throw new PaasmakerError('APP_NOT_FOUND', `no app named "${name}"`, {
      hint: apps.length > 0 ? `known apps: ${apps.join(', ')} (paasmaker requests APP)` : 'no app has run yet: start one with paasmaker up -d [DIR]',
    });
  }
  let here: string | undefined;
  try {
    here = (await import('../../manifest/index.js')).loadManifest(resolve(dir)).application.name;
  } catch {
    here = undefined;
  }
  const app = here ?? (apps.length === 1 ? apps[0] : undefined);
  if (app) return app;
  throw new PaasmakerError('APP_NOT_FOUND', apps.length === 0 ? 'no app has run on this platform yet' : 'which app? there is no project in this folder', {
    hint: apps.length === 0 ? 'start one with: paasmaker up -d [DIR]' : `name one: paasmaker requests APP (known: ${apps.join(', ')})`,
  });
}

/**
 * `paasmaker requests`: the request inspector of the running router, an
 * app's last requests (they live only in the router's memory, so a platform
 * must run); -f follows them on the event stream.
 */
async function requests(name: string | undefined, options: Options): Promise<number> {
  const count = parseCount(options.lines);
  const socket = runningPlatform();
  if (!socket) {
    throw new PaasmakerError('PLATFORM_UNREACHABLE', 'no Paasmaker is running: the requests an app got live only in the memory of the router that served them', {
      hint: 'start the platform (paasmaker daemon start, then paasmaker up -d in the project), send requests, then try again',
    });
  }
  const apps = await callApi<AppRow[]>(socket, 'GET', '/api/v1/apps', undefined, 5000);
  const app = await pickApp(name, options.dir, apps.map((record) => record.name));
  // The router that served the app: the daemon's, or a foreground up's.
  const owner = (await appPlatform(socket, app)) ?? socket;
  const path = `/api/v1/apps/${encodeURIComponent(app)}/requests`;
  const paint = painter(colorEnabled() && !options.json);

  if (!options.follow) {
    const records = count === 0 ? [] : await callApi<RequestRecordRow[]>(owner, 'GET', `${path}?limit=${count}`, undefined, 5000);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
      return 0;
    }
    if (records.length === 0) {
      process.stdout.write(`No requests to ${app} through the router yet (it keeps each app's last ones in memory). Follow them with: paasmaker requests ${app} -f\n`);
      return 0;
    }
    const rows = records.map(cells);
    const widths = COLUMNS.map((name, column) => Math.min(column === 2 ? 60 : Infinity, Math.max(name.length, ...rows.map((row) => row[column]!.length))));
    process.stdout.write(`${[header(widths), ...rows.map((row, i) => line(row, widths, records[i]!.status, paint))].join('\n')}\n`);
    return 0;
  }

  // Following: the stream is open before the recent ones are read, so nothing falls between the two.
  let last = 0;
  const print = (record: RequestRecordRow) => {
    if (record.id <= last) return;
    last = record.id;
    process.stdout.write(options.json ? `${JSON.stringify(record)}\n` : `${line(cells(record), FOLLOW_WIDTHS, record.status, paint)}\n`);
  };
  let pending: RequestRecordRow[] | undefined = [];
  let closed: () => void = () => {};
  const gone = new Promise<void>((resolveClose) => (closed = resolveClose));
  const stream = followEvents(
    owner,
    { app },
    (...[event, payload]) => {
      if (event !== 'request.recorded') return;
      if (pending) pending.push(...payload.requests);
      else payload.requests.forEach(print);
    },
    () => closed(),
  );
  await Promise.race([new Promise((resolveOpen) => stream.once('response', resolveOpen)), gone]);
  if (!options.json) process.stdout.write(`${header(FOLLOW_WIDTHS)}\n`);
  if (count > 0) (await callApi<RequestRecordRow[]>(owner, 'GET', `${path}?limit=${count}`, undefined, 5000)).forEach(print);
  pending.forEach(print);
  pending = undefined;
  await Promise.race([interrupted(), gone]);
  stream.destroy();
  return 0;
}
