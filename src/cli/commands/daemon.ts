import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { callApi, daemonFile, daemonSocket, runningDaemon, type DaemonRecord } from '../../api/client.js';
import type { Status } from '../../api/index.js';
import { ApiServer } from '../../api/server.js';
import { Platform } from '../../engine/index.js';
import { checkState } from '../read-state.js';
import { loadManifestAsync } from '../../manifest/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { currentOwner, ownerAlive } from '../../shared/owner.js';
import { homeLayout } from '../../shared/paths.js';
import { resolveSettings, type Settings } from '../../shared/settings.js';

/**
 * `paasmaker daemon run`: the platform as a long-lived process — one router
 * for every project, the API on $PAASMAKER_HOME/paasmaker.sock — bringing
 * back the projects it ran before it stopped (or was killed).
 */
export async function daemonRun(options: { proxyPort?: string; apiPort?: string }): Promise<number> {
  const settings = resolveSettings({ flags: options });
  const layout = homeLayout(settings.home);
  const say = daemonLog();
  const platform = await Platform.open({ home: settings.home, proxy: { port: settings.proxyPort, maxConnections: settings.maxConnections }, dns: { port: settings.dnsPort } });
  platform.on('job.update', (event) => say(`${event.app} ${event.title}: ${event.state}${event.detail ? ` — ${event.detail}` : ''}`));
  platform.on('instance.state', (event) => say(`${event.app} ${event.instance}.${event.index}: ${event.state}`));
  platform.on('log.line', (event) => {
    if (event.source === 'paasmaker') say(event.line);
  });
  const socket = daemonSocket(layout.root);
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
  const status = (): Status => ({
    pid: process.pid,
    socket,
    proxyPort: platform.routerPort ?? null,
    apiPort,
    uptime: Math.round((Date.now() - startedAt) / 1000),
    apps: platform.runningApps().map((manifest) => manifest.application.name),
    degraded: platform.degraded ?? null,
  });
  let token: string | undefined;
  if (settings.apiPort !== undefined) {
    const tokenFile = join(layout.root, 'api-token');
    if (!existsSync(tokenFile)) writeFileSync(tokenFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    token = readFileSync(tokenFile, 'utf8').trim();
  }
  const detached = async (app: string) => {
    // Only an app its terminal held: one handed over with up -d stays.
    const record = platform.state.apps.get(app);
    if (record && !record.daemon && platform.runningApps().some((manifest) => manifest.application.name === app)) {
      say(`${app}: its terminal went away; stopping it`);
      await platform.down(app);
    }
  };
  const api = new ApiServer({ platform, status, shutdown: () => void stop().then(() => process.exit(0)), detached }, { token, log: say });
  await api.listenSocket(socket);
  if (settings.apiPort !== undefined) apiPort = await api.listenTcp(settings.apiPort);
  const owner = currentOwner();
  const record: DaemonRecord = { pid: owner.pid, startTime: owner.startTime, socket, proxyPort: platform.routerPort ?? null, apiPort, startedAt };
  writeFileSync(daemonFile(layout.root), `${JSON.stringify(record)}\n`, { mode: 0o600 });
  say(`daemon ${process.pid} ready: router on ${platform.routerPort}, API on ${socket}${apiPort ? ` and 127.0.0.1:${apiPort}` : ''}`);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop().then(() => process.exit(0)));

  // Bring back what ran here before.
  for (const app of platform.state.apps.list().filter((candidate) => candidate.daemon)) {
    try {
      say(`restoring ${app.name} from ${app.directory}`);
      await platform.apply(await loadManifestAsync(app.directory));
      platform.state.apps.setDaemon(app.name, true);
      await platform.watch(app.name);
    } catch (error) {
      say(`could not restore ${app.name}: ${(error as Error).message}`);
    }
  }
  await new Promise<never>(() => {});
  return 0;
}

/**
 * The daemon's own lines, to its log (its stdout is that file). A line the
 * disk has no room for is counted, never thrown: the next one that fits says
 * how many were lost.
 */
function daemonLog(): (line: string) => void {
  let lost = 0;
  return (line) => {
    const time = new Date().toISOString();
    try {
      if (lost > 0) writeSync(1, `${time} [paasmaker] ${lost} line${lost === 1 ? '' : 's'} lost while the disk was full\n`);
      lost = 0;
      writeSync(1, `${time} ${line}\n`);
    } catch {
      lost++;
    }
  };
}

/**
 * Starts the daemon in the background unless it runs; resolves with its
 * record. Its router takes the port given with --proxy-port, else the one of
 * its last run (apps keep their URLs across restarts), else the environment's
 * or the default.
 */
export async function ensureDaemon(settings: Settings): Promise<{ record: DaemonRecord; started: boolean }> {
  const layout = homeLayout(settings.home);
  const running = runningDaemon(layout.root);
  if (running) return { record: running, started: false };
  // A state.db that cannot serve is said here, in the user's terminal, not only in the daemon's log.
  checkState(layout.stateDb);
  let proxyPort = settings.source.proxyPort === 'flag' ? String(settings.proxyPort) : undefined;
  if (proxyPort === undefined) {
    try {
      const previous = JSON.parse(readFileSync(daemonFile(layout.root), 'utf8')) as DaemonRecord;
      if (previous.proxyPort) proxyPort = String(previous.proxyPort);
    } catch {
      // first start
    }
  }
  mkdirSync(join(layout.root, 'logs'), { recursive: true, mode: 0o700 });
  const logFile = join(layout.root, 'logs', 'daemon.log');
  const log = openSync(logFile, 'a', 0o600);
  // A 1 MB young generation keeps a long-lived daemon's memory small (75 MB with 20 apps, against
  // 92 MB by default) and costs the router no throughput (measured with bench/fixtures/router.mjs).
  const args = ['--max-semi-space-size=1', process.argv[1]!, 'daemon', 'run', ...(proxyPort !== undefined ? ['--proxy-port', proxyPort] : []), ...(settings.apiPort !== undefined ? ['--api-port', String(settings.apiPort)] : [])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], env: process.env });
  closeSync(log);
  child.unref();
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const record = runningDaemon(layout.root);
    if (record) {
      try {
        await callApi(record.socket, 'GET', '/api/v1/status', undefined, 2000);
        return { record, started: true };
      } catch {
        // not answering yet
      }
    }
    if (exited !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-8).join('\n') : '';
  throw new PaasmakerError('SERVICE_FAILED', 'the daemon did not start', { detail: tail || undefined, hint: `its log: ${logFile}` });
}

export async function daemonStart(options: { proxyPort?: string; apiPort?: string }): Promise<number> {
  const settings = resolveSettings({ flags: options });
  const { record, started } = await ensureDaemon(settings);
  process.stdout.write(`${started ? 'started' : 'already running:'} daemon pid ${record.pid}; router on port ${record.proxyPort}; API on ${record.socket}${record.apiPort ? ` and http://127.0.0.1:${record.apiPort}/api/v1 (token in ${join(settings.home, 'api-token')})` : ''}\n`);
  return 0;
}

export async function daemonStop(): Promise<number> {
  const layout = homeLayout();
  const record = runningDaemon(layout.root);
  if (!record) {
    process.stdout.write('the daemon is not running\n');
    return 0;
  }
  await callApi(record.socket, 'POST', '/api/v1/daemon/stop', {}).catch(() => process.kill(record.pid, 'SIGTERM'));
  const deadline = Date.now() + 30_000;
  while (runningDaemon(layout.root) || ownerAlive(record.pid, record.startTime)) {
    if (Date.now() > deadline) throw new PaasmakerError('APP_RUNNING', `the daemon (pid ${record.pid}) did not stop within 30 s`, { hint: `kill ${record.pid}` });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  process.stdout.write(`stopped the daemon (pid ${record.pid}) and its apps\n`);
  return 0;
}

export async function daemonStatus(options: { json?: boolean }): Promise<number> {
  const record = runningDaemon(homeLayout().root);
  if (!record) {
    if (options.json) process.stdout.write(`${JSON.stringify({ running: false })}\n`);
    else process.stdout.write('the daemon is not running (paasmaker daemon start, or paasmaker up -d, starts it)\n');
    return options.json ? 0 : 1;
  }
  const status = await callApi<Status>(record.socket, 'GET', '/api/v1/status');
  if (options.json) process.stdout.write(`${JSON.stringify(status)}\n`);
  else process.stdout.write(`daemon pid ${status.pid}, up ${status.uptime} s; router on port ${status.proxyPort}; API on ${status.socket}${status.apiPort ? ` and 127.0.0.1:${status.apiPort}` : ''}\napps: ${status.apps.join(', ') || '(none)'}\n${status.degraded ? `degraded: ${status.degraded.reason}\n` : ''}`);
  return 0;
}
