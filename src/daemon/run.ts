import { rmSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { daemonFile, daemonSocket, type DaemonRecord } from '../api/client.js';
import type { Status } from '../shared/views.js';
import { ApiServer } from '../api/server.js';
import { Platform } from '../engine/index.js';
import { currentOwner } from '../shared/owner.js';
import { proxyOptions, type Settings } from '../shared/settings.js';
import { daemonLog } from './log.js';
import { DaemonProjects } from './projects.js';

/** How long after the last job update the daemon collects its heap once (with --expose-gc, control.ts). */
const IDLE_GC_MS = 30_000;

/**
 * The platform as a long-lived process: one router for every project, the
 * API on $PAASMAKER_HOME/paasmaker.sock (and on 127.0.0.1 for users, by API
 * token or session, when asked), bringing back the projects it ran before it stopped (or was
 * killed). Runs until a signal or the API stops it.
 */
export async function runDaemon(settings: Settings): Promise<never> {
  const say = daemonLog();
  const platform = await Platform.open({ home: settings.home, proxy: proxyOptions(settings), dns: { port: settings.dnsPort } });
  platform.on('job.update', (event) => say(`${event.app} ${event.title}: ${event.state}${event.detail ? ` — ${event.detail}` : ''}`));
  platform.on('instance.state', (event) => say(`${event.app} ${event.instance}.${event.index}: ${event.state}`));
  platform.on('log.line', (event) => {
    if (event.source === 'paasmaker') say(event.line);
  });
  // Warnings raised while it opened (the DNS port taken) and later ones: into the daemon's log too.
  const warn = (warning: { text: string; app: string | null }) => say(`warning: ${warning.app ? `${warning.app}: ` : ''}${warning.text}`);
  for (const warning of platform.warnings.list()) warn(warning);
  platform.on('platform.warning', warn);
  // Started without TurboFan (control.ts): the router's first requests turn it on, so that code
  // serving traffic is optimised as usual while an idle daemon keeps no optimised code it does not use.
  if (process.execArgv.includes('--no-turbofan')) platform.once('traffic.tick', () => setFlagsFromString('--turbofan'));
  // Once a burst of work (a start, apps coming up) has been over for IDLE_GC_MS, one full collection
  // gives back the heap pages it left free (about 4 MB with 20 apps): V8 alone seldom does while idle.
  const collect = (globalThis as { gc?: () => void }).gc;
  let idleGc: NodeJS.Timeout | undefined;
  const quiet = () => {
    if (!collect) return;
    clearTimeout(idleGc);
    idleGc = setTimeout(collect, IDLE_GC_MS).unref();
  };
  platform.on('job.update', quiet);
  const projects = new DaemonProjects(platform, say);
  const socket = daemonSocket(settings.home);
  const startedAt = Date.now();
  let apiPort: number | null = null;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      say('stopping');
      await api.close();
      await platform.close();
      // daemon.json stays: the next start takes the same router port. The socket says it is gone.
      rmSync(socket, { force: true });
    })();
    return stopping;
  };
  const exit = () => void stop().then(() => process.exit(0));
  const status = (): Status => ({
    pid: process.pid,
    socket,
    proxyPort: platform.routerPort ?? null,
    tlsPort: platform.tlsPort ?? null,
    apiPort,
    dnsPort: platform.dnsPort ?? null,
    uptime: Math.round((Date.now() - startedAt) / 1000),
    apps: platform.runningApps().map((manifest) => manifest.application.name),
    degraded: platform.degraded ?? null,
  });
  const api = new ApiServer({ platform, status, shutdown: exit, detached: (app) => projects.detached(app) }, {
    log: say,
    mcp: async (req, res, options) => (await import('../mcp/http.js')).serveMcp(req, res, options),
  });
  await api.listenSocket(socket);
  if (settings.apiPort !== undefined) apiPort = await api.listenTcp(settings.apiPort);
  // The web console and the API for the browser: a loopback port of its own that the router
  // leads paasmaker.localhost to (a TCP listener: its callers are users, not the socket's owner).
  platform.routeConsole(await api.listenTcp(0));
  const owner = currentOwner();
  const record: DaemonRecord = { pid: owner.pid, startTime: owner.startTime, socket, proxyPort: platform.routerPort ?? null, tlsPort: platform.tlsPort ?? null, apiPort, startedAt };
  writeFileSync(daemonFile(settings.home), `${JSON.stringify(record)}\n`, { mode: 0o600 });
  say(`daemon ${process.pid} ready: router on ${platform.routerPort}${platform.tlsPort ? ` (https on ${platform.tlsPort})` : ''}, console at ${platform.consoleUrl}, API on ${socket}${apiPort ? ` and 127.0.0.1:${apiPort}` : ''}`);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, exit);

  await projects.restore();
  quiet();
  return new Promise<never>(() => {});
}
