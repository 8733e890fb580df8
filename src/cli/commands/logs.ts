import { parseLogLine, readRange, tailLog } from '../../shared/tail.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadManifest } from '../../manifest/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { homeLayout } from '../../shared/paths.js';
import { colorEnabled, colorFor, painter } from '../output.js';

interface LogSource {
  /** "web.0" (or "shop/web.0" when several apps are shown). */
  label: string;
  file: string;
}

/** `paasmaker logs`: the recent output of an app's processes, merged in time order; -f follows. */
export async function logs(target: string | undefined, options: { follow?: boolean; lines: string; dir: string }): Promise<number> {
  const count = Number(options.lines);
  if (!Number.isInteger(count) || count < 0) {
    throw new PaasmakerError('USAGE', `--lines must be a whole number (got "${options.lines}")`, { hint: 'for example: paasmaker logs -n 50' });
  }
  const sources = findSources(target, options.dir);
  const paint = painter(colorEnabled());
  const width = Math.max(...sources.map((source) => source.label.length));
  const print = (label: string, raw: string) => {
    const { stream, text } = parseLogLine(raw);
    const prefix = paint(colorFor(label.split('/').pop()!), label.padEnd(width));
    process.stdout.write(`${prefix} ${paint('gray', '|')} ${stream === 'sys' ? paint('dim', text) : text}\n`);
  };

  const recent = sources.flatMap((source) => tailLog(source.file, count).map((line) => ({ label: source.label, line })));
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
    const finish = () => {
      clearInterval(timer);
      resolveFollow();
    };
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
  return 0;
}

function findSources(target: string | undefined, dir: string): LogSource[] {
  const logsRoot = homeLayout().logs;
  const apps = existsSync(logsRoot) ? readdirSync(logsRoot).sort() : [];
  let app: string | undefined;
  let selector: string | undefined;
  if (target?.includes('/')) {
    [app, selector] = target.split('/', 2) as [string, string];
  } else {
    const here = projectApp(dir);
    if (target && !here && apps.includes(target)) app = target;
    else {
      app = here ?? (apps.length === 1 ? apps[0] : undefined);
      selector = target;
    }
    if (!app) {
      throw new PaasmakerError('APP_NOT_FOUND', apps.length === 0 ? 'no app has written any logs yet' : 'which app? there is no project in this folder', {
        hint: apps.length === 0 ? 'start one with: paasmaker up [DIR]' : `name one: paasmaker logs APP[/INSTANCE] (known: ${apps.join(', ')})`,
      });
    }
  }
  const appDir = join(logsRoot, app!);
  const files = existsSync(appDir) ? readdirSync(appDir).filter((file) => file.endsWith('.log')).sort() : [];
  const sources = files
    .map((file) => ({ label: file.slice(0, -'.log'.length), file: join(appDir, file) }))
    .filter((source) => !selector || source.label === selector || source.label.replace(/\.\d+$/, '') === selector);
  if (sources.length === 0) {
    const known = files.map((file) => file.slice(0, -'.log'.length));
    throw new PaasmakerError('INSTANCE_NOT_FOUND', selector ? `app "${app}" has no logs for "${selector}"` : `app "${app}" has no logs yet`, {
      hint: known.length > 0 ? `known: ${known.join(', ')}` : `start it with: paasmaker up`,
    });
  }
  return sources;
}

/** The app named by the manifest in dir, if there is a readable one. */
function projectApp(dir: string): string | undefined {
  try {
    return loadManifest(resolve(dir)).application.name;
  } catch {
    return undefined;
  }
}
