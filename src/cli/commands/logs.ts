import { parseLogLine, readRange, tailLog } from '../../shared/tail.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { callApi, followEvents } from '../../api/client.js';
import type { AppRow, InstanceRow, LogLineRow } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { homeLayout } from '../../shared/paths.js';
import { runningPlatform } from '../running-platform.js';
import { colorEnabled, colorFor, interrupted, painter } from '../output.js';
import { defineCommand } from '../command.js';

type Options = { follow?: boolean; lines?: string; dir: string; since?: string; timestamps?: boolean };

export default defineCommand<Options>({
  name: 'logs',
  description: "print an app's output: all instances, or one",
  arguments: [{ name: '[target]', description: 'INSTANCE, INSTANCE.INDEX, APP, APP/INSTANCE or APP/INSTANCE.INDEX', completes: 'logs-target' }],
  options: [
    { flags: '-f, --follow', description: 'keep printing new lines' },
    { flags: '-n, --lines <n>', description: 'how many recent lines to print (default 100; with --since, every line since)' },
    { flags: '--since <when>', description: 'only lines since then: 30s, 10m, 1h, 2d ago, or an ISO time (2026-05-01T12:00:00Z)' },
    { flags: '-t, --timestamps', description: 'print each line\'s time (ISO, UTC)' },
    { flags: '-C, --dir <dir>', description: 'the project folder that names the app', default: '.', completes: 'dir' },
  ],
  examples: ['paasmaker logs            every instance of the project here', 'paasmaker logs web.0 -f   follow one process', 'paasmaker logs shop/worker -n 20', 'paasmaker logs --since 10m -t'],
  run: ({ args, options }) => logs(args[0] as string | undefined, options),
});

interface LogSource {
  /** "web.0" (or "shop/web.0" when several apps are shown). */
  label: string;
  file: string;
}

type Print = (label: string, stream: string, text: string, time: string) => void;

/** Prints one line as "label | text" ("label | time text" with -t), labels padded to the widest known or seen so far. */
function printer(labels: string[], timestamps: boolean): Print {
  const paint = painter(colorEnabled());
  let width = Math.max(0, ...labels.map((label) => label.length));
  return (label, stream, text, time) => {
    width = Math.max(width, label.length);
    const prefix = paint(colorFor(label.split('/').pop()!), label.padEnd(width));
    const stamp = timestamps ? `${paint('gray', time || '-')} ` : '';
    process.stdout.write(`${prefix} ${paint('gray', '|')} ${stamp}${stream === 'sys' || stream === 'system' ? paint('dim', text) : text}\n`);
  };
}

/** --since as an ISO time to compare log times with: 30s, 10m, 1h, 2d ago, or a date and time. */
function sinceTime(since: string, now = Date.now()): string {
  const ago = /^(\d+)(s|m|h|d)$/.exec(since.trim());
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const when = ago ? now - Number(ago[1]) * unit[ago[2] as keyof typeof unit] : Date.parse(since);
  if (!Number.isFinite(when)) {
    throw new PaasmakerError('USAGE', `--since takes a duration (30s, 10m, 1h, 2d) or an ISO time (got "${since}")`, { hint: 'for example: paasmaker logs --since 10m' });
  }
  return new Date(when).toISOString();
}

function parseCount(lines: string | undefined, since: string | undefined): number {
  // With --since and no -n: every line since then (as far back as the API answers).
  if (lines === undefined) return since === undefined ? 100 : 5000;
  const count = Number(lines);
  if (!Number.isInteger(count) || count < 0) {
    throw new PaasmakerError('USAGE', `--lines must be a whole number (got "${lines}")`, { hint: 'for example: paasmaker logs -n 50' });
  }
  return count;
}

/**
 * `paasmaker logs`: the recent output of an app's processes, merged in time
 * order; -f follows. From the running platform's API (its event stream for
 * -f), else from the log files when nothing runs.
 */
async function logs(target: string | undefined, options: Options): Promise<number> {
  const count = parseCount(options.lines, options.since);
  const since = options.since === undefined ? '' : sinceTime(options.since);
  const socket = runningPlatform();
  options = { ...options, since };
  return socket ? logsFromApi(socket, target, count, options) : logsFromFiles(target, count, options);
}

/** Which app and which of its processes: APP/SELECTOR, an app's name, or a selector in the project folder. */
async function pickApp(target: string | undefined, dir: string, apps: string[]): Promise<{ app: string; selector?: string }> {
  if (target?.includes('/')) {
    const [app, selector] = target.split('/', 2) as [string, string];
    return { app, selector };
  }
  const here = await projectApp(dir);
  if (target && !here && apps.includes(target)) return { app: target };
  const app = here ?? (apps.length === 1 ? apps[0] : undefined);
  if (!app) {
    throw new PaasmakerError('APP_NOT_FOUND', apps.length === 0 ? 'no app has written any logs yet' : 'which app? there is no project in this folder', {
      hint: apps.length === 0 ? 'start one with: paasmaker up [DIR]' : `name one: paasmaker logs APP[/INSTANCE] (known: ${apps.join(', ')})`,
    });
  }
  return { app, selector: target };
}

const selects = (selector: string | undefined, source: string) => !selector || source === selector || source.replace(/\.\d+$/, '') === selector;

async function logsFromApi(socket: string, target: string | undefined, count: number, options: Options): Promise<number> {
  const apps = await callApi<AppRow[]>(socket, 'GET', '/api/v1/apps', undefined, 5000);
  const { app, selector } = await pickApp(target, options.dir, apps.map((record) => record.name));
  const path = `/api/v1/apps/${encodeURIComponent(app)}`;
  const instances = await callApi<InstanceRow[]>(socket, 'GET', `${path}/instances`, undefined, 5000);
  if (selector && !instances.some((instance) => selects(selector, instance.name) || selector.startsWith(`${instance.name}.`))) {
    throw new PaasmakerError('INSTANCE_NOT_FOUND', `app "${app}" has no logs for "${selector}"`, { hint: knownHint(app, instances.map((instance) => instance.name), apps.map((record) => record.name)) });
  }
  const print = printer([], Boolean(options.timestamps));
  if (count > 0) {
    const recent = await callApi<LogLineRow[]>(socket, 'GET', `${path}/logs?lines=${Math.min(count, 5000)}`, undefined, 5000);
    const shown = recent.filter((candidate) => selects(selector, candidate.source) && candidate.time >= options.since!);
    for (const line of shown.slice(-count)) print(line.source, line.stream, line.line, line.time);
  }
  if (!options.follow) return 0;
  let closed: () => void = () => {};
  const gone = new Promise<void>((resolveClose) => (closed = resolveClose));
  const stream = followEvents(
    socket,
    { app },
    (...[event, payload]) => {
      if (event === 'log.line' && selects(selector, payload.source)) print(payload.source, payload.stream, payload.line, new Date(payload.time).toISOString());
    },
    () => closed(),
  );
  await Promise.race([interrupted(), gone]);
  stream.destroy();
  return 0;
}

async function logsFromFiles(target: string | undefined, count: number, options: Options): Promise<number> {
  const sources = await findSources(target, options.dir);
  const printRaw = printer(sources.map((source) => source.label), Boolean(options.timestamps));
  const print = (label: string, raw: string) => {
    const { stream, text, time } = parseLogLine(raw);
    printRaw(label, stream, text, time);
  };
  const recent = sources.flatMap((source) => tailLog(source.file, count).map((line) => ({ label: source.label, line }))).filter((entry) => parseLogLine(entry.line).time >= options.since!);
  // Lines start with an ISO timestamp, so a stable sort by it interleaves the files in time order.
  recent.sort((a, b) => (a.line.slice(0, 24) < b.line.slice(0, 24) ? -1 : a.line.slice(0, 24) > b.line.slice(0, 24) ? 1 : 0));
  if (count > 0) for (const entry of recent.slice(-count)) print(entry.label, entry.line);
  if (!options.follow) return 0;

  const offsets = new Map(sources.map((source) => [source.file, existsSync(source.file) ? statSync(source.file).size : 0]));
  const partial = new Map<string, string>();
  await new Promise<void>((resolveFollow) => {
    const timer = setInterval(() => {
      for (const source of sources) {
        if (!existsSync(source.file)) continue;
        const size = statSync(source.file).size;
        let offset = offsets.get(source.file) ?? 0;
        if (size < offset) offset = 0; // truncated: start over
        if (size === offset) continue;
        const chunk = readRange(source.file, offset, size);
        offsets.set(source.file, size);
        const text = (partial.get(source.file) ?? '') + chunk;
        const lines = text.split('\n');
        partial.set(source.file, lines.pop() ?? '');
        for (const line of lines) print(source.label, line);
      }
    }, 150);
    void interrupted().then(() => {
      clearInterval(timer);
      resolveFollow();
    });
  });
  return 0;
}

/** The names a logs target can take: the app's instance types, and the apps. */
function knownHint(app: string, instances: string[], apps: string[]): string {
  return `instances of ${app}: ${instances.join(', ') || '(none)'}; apps: ${apps.join(', ')} (paasmaker logs APP[/INSTANCE])`;
}

async function findSources(target: string | undefined, dir: string): Promise<LogSource[]> {
  const logsRoot = homeLayout().logs;
  const apps = existsSync(logsRoot) ? readdirSync(logsRoot).sort() : [];
  const { app, selector } = await pickApp(target, dir, apps);
  const appDir = join(logsRoot, app);
  const files = existsSync(appDir) ? readdirSync(appDir).filter((file) => file.endsWith('.log')).sort() : [];
  const sources = files
    .map((file) => ({ label: file.slice(0, -'.log'.length), file: join(appDir, file) }))
    .filter((source) => selects(selector, source.label));
  if (sources.length === 0) {
    const known = files.map((file) => file.slice(0, -'.log'.length));
    throw new PaasmakerError('INSTANCE_NOT_FOUND', selector ? `app "${app}" has no logs for "${selector}"` : `app "${app}" has no logs yet`, {
      hint: known.length > 0 ? knownHint(app, known, apps) : `start it with: paasmaker up`,
    });
  }
  return sources;
}

/** The app named by the manifest in dir, if there is a readable one. */
async function projectApp(dir: string): Promise<string | undefined> {
  try {
    return (await import('../../manifest/index.js')).loadManifest(resolve(dir)).application.name;
  } catch {
    return undefined;
  }
}
