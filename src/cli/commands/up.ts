import { relative } from 'node:path';
import type { InstanceStateEvent, JobUpdateEvent, LogLineEvent, Platform, UnreadyProcess } from '../../engine/index.js';
import type { StartedApp } from '../../api/index.js';
import type { ResolvedManifest } from '../../manifest/index.js';
import { primaryUrl, urlsText, type NameUrls } from '../../shared/app-urls.js';
import { EXIT, PaasmakerError } from '../../shared/errors.js';
import { callApi, followEvents, runningDaemon, upSocket, type DaemonRecord } from '../../api/client.js';
import { proxyOptions, resolveSettings, type Settings } from '../../shared/settings.js';
import { defineCommand } from '../command.js';
import { noteUnappliedFlags } from '../unapplied-flags.js';
import { colorEnabled, colorFor, painter, reportError, signalExit, announceIfSlow, type Paint } from '../output.js';
import { loadTui } from '../load-tui.js';

type Options = { file?: string; prepare?: boolean; offline?: boolean; proxyPort?: string; tlsPort?: string; tls?: boolean; proxy?: boolean; watch?: boolean; detach?: boolean; tui?: boolean };

export default defineCommand<Options>({
  name: 'up',
  description: 'run a project: provision its services, prepare, start and supervise every instance, reload on save',
  arguments: [
    { name: '[dir]', description: 'project folder (holding paasmaker.yml, manifest.yml, a Procfile or Procfile.dev), when it reads as a path or holds a manifest; default: here', completes: 'dir' },
    { name: '[instances...]', description: 'instance types to run, with the types they depend on; default: all' },
  ],
  options: [
    { flags: '-f, --file <file>', description: 'the manifest to read, relative to the folder: a paasmaker.yml, manifest.yml or Procfile (Procfile.dev, …); default: $PAASMAKER_MANIFEST' },
    { flags: '--prepare', description: 'run the prepare steps even if nothing changed' },
    { flags: '--offline', description: 'download no runtime version (a Node.js nothing installed fits is an error saying what to install)' },
    { flags: '--proxy-port <port>', description: "the router's port (default 7654, or $PAASMAKER_PROXY_PORT; 0 picks a free one)" },
    { flags: '--tls-port <port>', description: "the router's https port (default 7655, or $PAASMAKER_TLS_PORT; 0 picks a free one)" },
    { flags: '--no-tls', description: 'the router listens without TLS (no https://)' },
    { flags: '--no-proxy', description: 'do not start the router (apps answer on their own ports only)' },
    { flags: '--no-watch', description: 'do not reload when files change' },
    { flags: '-d, --detach', description: 'run it in the daemon (started if needed) and return once it runs' },
    { flags: '--no-tui', description: 'print prefixed log lines instead of the terminal UI' },
  ],
  examples: [
    'paasmaker up',
    'paasmaker up ../shop --prepare',
    'paasmaker up web worker       only these instance types (and what they depend on)',
    'paasmaker up -f Procfile.dev',
    'paasmaker up --proxy-port 8080',
  ],
  run: ({ args, options }) => {
    const [dir, instances] = args as [string | undefined, string[]];
    return up([...(dir === undefined ? [] : [dir]), ...instances], options);
  },
});

/**
 * `paasmaker up`: runs a project in the foreground, prints every line of its
 * processes with a coloured name prefix, and stops everything on Ctrl-C.
 */
async function up(words: string[], options: Options): Promise<number> {
  const settings = resolveSettings({ flags: { proxyPort: options.proxyPort, tlsPort: options.tlsPort, tls: options.tls } });
  const { manifest, request } = await chosenManifest(words, options.file);
  for (const line of [checkoutNote(manifest), await staleCheckouts()]) if (line) process.stdout.write(`${line}\n`);
  // With a daemon running, the project joins it (one router for every project) and this terminal holds it.
  const daemon = options.proxy === false || settings.source.proxyPort === 'flag' || options.tlsPort !== undefined ? undefined : runningDaemon(settings.home);
  if (options.detach) return upInDaemon(options.offline ? { ...request, offline: true } : request, settings);
  const paint = painter(colorEnabled());
  const printer = new LinePrinter(paint, manifest);
  // --no-tls does not send the project elsewhere (its own router would want the daemon's port): it joins, and is told the flag waits for the daemon's next start.
  if (daemon) noteUnappliedFlags(settings, daemon, painter(colorEnabled(process.stderr)));
  if (daemon && wantsTui(options)) return upAttachedTui(manifest, request, daemon, options);
  if (daemon) return upAttached(manifest, request, daemon, printer, paint, options);
  const platform = await openPlatform(settings, options.proxy !== false, printer);
  const app = manifest.application.name;

  if (platform.reapReport.reaped > 0) {
    printer.system(`reaped ${platform.reapReport.reaped} process group(s) left over by an earlier run`);
  }

  let stopping: Promise<void> | undefined;
  let control: { close: () => Promise<void> } | undefined;
  let markStopped!: () => void;
  const stopped = new Promise<void>((resolveStopped) => (markStopped = resolveStopped));
  let exitCode: number = EXIT.ok;
  const stop = (reason: string, signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C: no more patience; the keeper kills what is left when we exit.
      printer.system('stopping now');
      process.exit(signalExit(signal));
    }
    exitCode = signalExit(signal);
    printer.system(`${reason}: stopping ${app}…`);
    stopping = (control?.close() ?? Promise.resolve()).then(() => platform.close()).then(markStopped);
    return stopping;
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handlers = signals.map((signal) => {
    const handler = () => void stop(signal === 'SIGINT' ? 'interrupted' : `received ${signal}`, signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });


  // The API for other terminals (scale, restart, jobs abort) is there from the start.
  control = await serveApi(platform).catch(() => undefined);
  if (wantsTui(options)) return upWithTui(platform, manifest, options, control);
  platform.on('log.line', (event) => printer.line(event));
  platform.on('instance.state', (event) => printer.state(event));
  platform.on('job.update', (event) => printJob(printer, event));
  platform.on('platform.warning', (warning) => printer.system(`warning: ${warning.text}`));
  const started = Date.now();
  printer.system(`starting ${app} from ${manifest.file} (${manifest.instances.length} instance type(s))`);
  try {
    await platform.apply(manifest, { forcePrepare: options.prepare, offline: options.offline });
    if (!stopping) {
      const elapsed = Date.now() - started;
      const unready = platform.unready(app);
      // Its output is on the screen above: say what happened to each process, not its lines again.
      if (unready.length > 0) for (const line of unreadyReport(app, elapsed, unready, { lines: false })) printer.system(line);
      else printer.system(`${app} is up in ${elapsed} ms — Ctrl-C stops it; \`paasmaker ps\` in another terminal lists it`);
      if (manifest.instances.some((instance) => !instance.standalone)) printOpen(printer, paint, platform.appUrls(app));
      if (options.watch !== false && manifest.instances.some((instance) => instance.watch.enabled)) {
        await platform.watch(app);
        if (!stopping) printer.system('watching for changes: a save reloads without dropping a request (--no-watch turns it off)');
      }
    }
  } catch (error) {
    if (!stopping) {
      await control?.close();
      await platform.close();
      for (const [signal, handler] of handlers) process.off(signal, handler);
      return reportError(error);
    }
  }

  await stopped;
  for (const [signal, handler] of handlers) process.off(signal, handler);
  printer.system(`${app} stopped`);
  return exitCode;
}

/**
 * The manifest `up` runs: the folder's, or the file chosen with -f (else
 * $PAASMAKER_MANIFEST), with only the instance types named (and their
 * dependencies). `request` is that choice as the daemon's API takes it.
 */
async function chosenManifest(words: string[], file: string | undefined): Promise<{ manifest: ResolvedManifest; request: UpChoice }> {
  const { loadChosenManifest } = await import('../../manifest/index.js');
  const fromEnv = process.env.PAASMAKER_MANIFEST;
  const named = file !== undefined ? { path: file, from: `-f ${file}` } : fromEnv ? { path: fromEnv, from: `PAASMAKER_MANIFEST=${fromEnv}` } : undefined;
  const { manifest, choice } = await loadChosenManifest(words, named);
  const request: UpChoice = { directory: manifest.directory };
  if (choice.chosenFile) request.file = relative(manifest.directory, manifest.file);
  if (choice.instances.length > 0) request.instances = choice.instances;
  return { manifest, request };
}

/** The line about databases of checkouts that are gone, read from state; a state that cannot be read says nothing here (up itself says why). */
async function staleCheckouts(): Promise<string | undefined> {
  try {
    const [{ readState }, { staleNote }] = await Promise.all([import('../read-state.js'), import('../stale-checkouts.js')]);
    return staleNote(readState((state) => state.services.list()) ?? []);
  } catch {
    return undefined;
  }
}

/** Which checkout runs, when it is not the repository's main worktree: its own name, and why (a detached HEAD is named by its commit). */
function checkoutNote(manifest: ResolvedManifest): string | undefined {
  const checkout = manifest.checkout;
  if (!checkout) return undefined;
  const why = checkout.detached ? `a detached HEAD at ${checkout.branch}, named by its short commit` : `branch ${checkout.branch}`;
  return `this worktree (${why}) runs as ${manifest.application.name}, on ${checkout.label}.${checkout.app}.localhost; the main worktree keeps ${checkout.app}.localhost`;
}

/** What `up` asks the daemon to run: the folder, and the file and instance types chosen in it. */
type UpChoice = { directory: string; file?: string; instances?: string[] };

/** The terminal UI: in a terminal, unless --no-tui; in CI (CI=true) even a terminal gets lines — ink draws no live frames there, and logs are what CI keeps. */
function wantsTui(options: { tui?: boolean }): boolean {
  return options.tui !== false && Boolean(process.stdout.isTTY && process.stdin.isTTY) && !process.env.CI;
}

/** `up` in a terminal while the daemon runs: the UI over the daemon's API, holding this one project. */
async function upAttachedTui(manifest: ResolvedManifest, request: UpChoice, daemon: DaemonRecord, options: { prepare?: boolean; offline?: boolean; watch?: boolean }): Promise<number> {
  const { ApiFeed, runTui } = await loadTui();
  const app = manifest.application.name;
  const feed = new ApiFeed(daemon.socket, daemon.proxyPort, { app });
  let failed: unknown;
  void callApi(daemon.socket, 'POST', '/api/v1/apps', { ...request, attached: true, prepare: options.prepare, offline: options.offline, watch: options.watch !== false }).catch((error: unknown) => {
    failed = error;
  });
  const how = await runTui(feed, { color: colorEnabled() });
  if (failed) return reportError(failed);
  process.stdout.write(`${app} stopped (the daemon's other projects run on)\n`);
  return how === 'interrupted' ? signalExit('SIGINT') : EXIT.ok;
}

/**
 * `up` in a terminal: the terminal UI over the engine. The app starts behind
 * it; q (or Ctrl-C) stops everything. A failed start shows in the status
 * line, and its full error is printed once the UI has left the screen.
 */
async function upWithTui(platform: Platform, manifest: ResolvedManifest, options: { prepare?: boolean; offline?: boolean; watch?: boolean }, control: { close: () => Promise<void> } | undefined): Promise<number> {
  const { EngineFeed, runTui } = await loadTui();
  const app = manifest.application.name;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    await control?.close();
    await platform.close();
  })());
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop().then(() => process.exit(signalExit(signal))));
  const feed = new EngineFeed(platform, manifest, stop);
  let failed: unknown;
  void platform
    .apply(manifest, { forcePrepare: options.prepare, offline: options.offline })
    .then(() => (options.watch !== false && manifest.instances.some((instance) => instance.watch.enabled) ? platform.watch(app) : undefined))
    .catch((error: unknown) => {
      failed = error;
    });
  const how = await runTui(feed, { color: colorEnabled() });
  await stop();
  if (failed) return reportError(failed);
  process.stdout.write(`${app} stopped\n`);
  return how === 'interrupted' ? signalExit('SIGINT') : EXIT.ok;
}

/** A foreground `up` answers the same API as the daemon, for its own app, on run/up-<pid>.sock. */
async function serveApi(platform: Platform): Promise<{ close: () => Promise<void> }> {
  const { ApiServer } = await import('../../api/server.js');
  const api = new ApiServer({
    platform,
    status: () => ({ pid: process.pid, socket: upSocket(platform.layout.root, process.pid), proxyPort: platform.routerPort ?? null, tlsPort: platform.tlsPort ?? null, apiPort: null, dnsPort: platform.dnsPort ?? null, uptime: Math.round(process.uptime()), apps: platform.runningApps().map((manifest) => manifest.application.name) }),
    shutdown: () => process.kill(process.pid, 'SIGTERM'),
  });
  await api.listenSocket(upSocket(platform.layout.root, process.pid));
  return { close: () => api.close() };
}

/**
 * A foreground `up` while the daemon runs: the project runs there, behind its
 * router; this terminal prints the app's lines and holds it through an
 * attached event stream, so Ctrl-C — or this process being killed — stops
 * the project while the daemon's other projects run on.
 */
async function upAttached(manifest: ResolvedManifest, request: UpChoice, daemon: DaemonRecord, printer: LinePrinter, paint: Paint, options: { prepare?: boolean; offline?: boolean; watch?: boolean }): Promise<number> {
  const app = manifest.application.name;
  printer.system(`running ${app} in the daemon (pid ${daemon.pid}); Ctrl-C stops it, other projects keep running`);
  let stopping = false;
  let finish!: (code: number) => void;
  let holder: ReturnType<typeof followEvents> | undefined;
  const ended = new Promise<number>((resolveEnded) => {
    finish = resolveEnded;
    holder = followEvents(
      daemon.socket,
      { app, attach: true },
      (event, payload) => {
        if (event === 'log.line') printer.line(payload);
        else if (event === 'instance.state') printer.state(payload);
        else if (event === 'job.update') printJob(printer, payload);
        else if (event === 'platform.warning') printer.system(`warning: ${payload.text}`);
      },
      () => {
        if (stopping) return;
        printer.system('the daemon went away');
        resolveEnded(EXIT.user);
      },
    );
  });
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    printer.system(`stopping ${app}…`);
    await callApi(daemon.socket, 'POST', `/api/v1/apps/${encodeURIComponent(app)}/down`, { dev: true }).catch(() => undefined);
    holder?.destroy();
    finish(signalExit(signal));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, () => void stop(signal));
  const began = Date.now();
  try {
    const answer = await callApi<StartedApp>(daemon.socket, 'POST', '/api/v1/apps', { ...request, attached: true, prepare: options.prepare, offline: options.offline, watch: options.watch !== false });
    if (answer.unready.length > 0) for (const line of unreadyReport(app, Date.now() - began, answer.unready, { lines: false })) printer.system(line);
    else printer.system(`${app} is up in ${Date.now() - began} ms — Ctrl-C stops it; \`paasmaker ps\` in another terminal lists it`);
    if (manifest.instances.some((instance) => !instance.standalone)) printOpen(printer, paint, answer);
    const beside = besideVersion(answer);
    if (beside) printer.system(beside);
  } catch (error) {
    stopping = true;
    holder?.destroy();
    return reportError(error);
  }
  const code = await ended;
  printer.system(`${app} stopped`);
  return code;
}

function printJob(printer: LinePrinter, event: JobUpdateEvent): void {
  // `up` tells of the app's start itself; its steps (services, prepare, reload…) are shown as jobs.
  if (/^(up|start) /.test(event.title)) return;
  if (event.state === 'running') printer.system(`${event.title}…${event.detail ? ` (${event.detail})` : ''}`);
  else if (event.state === 'success') printer.system(`${event.title}: ${event.detail ?? 'done'}`);
  else if ((event.state === 'failed' || event.state === 'aborted') && event.detail) printer.system(`${event.title} ${event.state}: ${event.detail}`);
}

/** `up -d`: the project runs in the daemon (started if needed); returns once it runs. */
async function upInDaemon(request: UpChoice & { offline?: boolean }, settings: Settings): Promise<number> {
  const { ensureDaemon } = await import('../../daemon/index.js');
  const { record, started } = await ensureDaemon(settings);
  if (!started) noteUnappliedFlags(settings, record, painter(colorEnabled(process.stderr)));
  if (started) process.stdout.write(`started the daemon (pid ${record.pid}); router on port ${record.proxyPort}${record.tlsPort ? ` (https on ${record.tlsPort})` : ''}\n`);
  const began = Date.now();
  const app = await callApi<StartedApp>(record.socket, 'POST', '/api/v1/apps', request);
  if (app.unready.length > 0) {
    const paint = painter(colorEnabled(process.stderr));
    const [first, ...rest] = unreadyReport(app.name, Date.now() - began, app.unready, { lines: true });
    process.stderr.write(`${paint('red', 'error:')} ${first}\n${rest.join('\n')}\n`);
    process.stderr.write(`${paint('cyan', 'hint:')} it stays in the daemon and is restarted; fix it and save to reload it, or stop it with: paasmaker down ${app.name}\n`);
    return EXIT.user;
  }
  const where = urlsText(app);
  process.stdout.write(`${app.name} is up in ${Date.now() - began} ms${where ? `: ${where}` : ''}\n`);
  const beside = besideVersion(app);
  if (beside) process.stdout.write(`${beside}\n`);
  return EXIT.ok;
}

/** "open https://shop.localhost:7655/ (or http://shop.localhost:7654/)": https first while the router listens with TLS. */
function printOpen(printer: LinePrinter, paint: Paint, urls: Partial<NameUrls>): void {
  const first = primaryUrl(urls);
  if (!first) return;
  printer.system(`open ${paint('bold', first)}${urls.httpsUrl && urls.url ? ` (or ${urls.url})` : ''}`);
}

/** A development up holds the app's names while a deployed version is current: said, never silent. */
function besideVersion(app: StartedApp): string | undefined {
  if (app.version === null || app.servedBy !== 'dev') return undefined;
  const beside = primaryUrl(app)?.replace(`//${app.name}.`, `//v${app.version}.${app.name}.`);
  return `this up answers ${app.name}.localhost while it runs; the deployed v${app.version} stays current${beside ? ` on ${beside}` : ''} and takes the name back when this up stops (or with paasmaker down ${app.name}; paasmaker versions ${app.name} lists them)`;
}

/** "shop is not up after 812 ms:" then, for each routed process not running, what happened (and its last lines). */
function unreadyReport(app: string, elapsed: number, unready: UnreadyProcess[], options: { lines: boolean }): string[] {
  return [
    `${app} is not up after ${elapsed} ms:`,
    ...unready.flatMap((each) => [
      `  ${each.process} ${each.reason}`,
      ...(options.lines ? each.lines.map((line) => `    ${line}`) : []),
      ...(each.hint ? [`  hint: ${each.hint}`] : []),
    ]),
  ];
}

/**
 * Opens the platform with its router. When the default port is held by
 * another Paasmaker (another project's `up`), this one runs without a router
 * rather than failing; a port the user chose must be free.
 */
async function openPlatform(settings: Settings, routed: boolean, printer: LinePrinter): Promise<Platform> {
  const home = settings.home;
  const { Platform } = await announceIfSlow(import('../../engine/index.js'), () => printer.system('loading the platform (slow only on the first start after an install)…'));
  if (!routed) return Platform.open({ home });
  let platform: Platform;
  try {
    const opening = Platform.open({ home, proxy: proxyOptions(settings), dns: { port: settings.dnsPort } });
    platform = await announceIfSlow(opening, () => printer.system(`opening ${home}: its state, the router and the DNS responder…`));
  } catch (error) {
    const chosen = settings.source.proxyPort !== 'default' || (settings.tlsPort !== undefined && settings.source.tlsPort !== 'default');
    if (!(error instanceof PaasmakerError) || error.code !== 'PORT_IN_USE' || chosen || !/paasmaker/.test(error.message)) throw error;
    printer.system(`${error.message}; running without a router (each instance answers on its own port)`);
    return Platform.open({ home });
  }
  if (platform.dnsProblem) printer.system(platform.dnsProblem);
  return platform;
}

class LinePrinter {
  private readonly width: number;

  constructor(
    private readonly paint: Paint,
    manifest: ResolvedManifest,
  ) {
    const names = manifest.instances.flatMap((instance) =>
      Array.from({ length: instance.quantity }, (_, index) => `${instance.name}.${index}`),
    );
    this.width = Math.max('paasmaker'.length, ...names.map((name) => name.length));
  }

  line(event: LogLineEvent): void {
    const prefix = this.paint(colorFor(event.source.split(':')[0]!), event.source.padEnd(this.width));
    const text = event.stream === 'system' ? this.paint('dim', event.line) : event.line;
    process.stdout.write(`${prefix} ${this.paint('gray', '|')} ${text}\n`);
  }

  state(event: InstanceStateEvent): void {
    const name = `${event.instance}.${event.index}`;
    if (event.state === 'running') {
      const where = event.port ? ` on ${this.paint('bold', `http://127.0.0.1:${event.port}/`)}` : '';
      const pid = event.pid ? ` (pid ${event.pid})` : '';
      this.system(`${name} ${this.paint('green', 'running')}${where}${pid}`);
    } else if (event.state === 'crashed') {
      this.system(`${name} ${this.paint('red', 'crashed')}`);
    } else if (event.state === 'exited') {
      this.system(`${name} exited (0)`);
    }
  }

  system(text: string): void {
    process.stdout.write(`${this.paint('bold', 'paasmaker'.padEnd(this.width))} ${this.paint('gray', '|')} ${text}\n`);
  }
}
