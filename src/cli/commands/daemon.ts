import { join } from 'node:path';
import { callApi, runningDaemon } from '../../api/client.js';
import type { Status } from '../../api/index.js';
import { ensureDaemon, runDaemon, stopDaemon } from '../../daemon/index.js';
import { homeLayout } from '../../shared/paths.js';
import { resolveSettings } from '../../shared/settings.js';

/** `paasmaker daemon run`: the daemon in this process (what `daemon start` runs in the background). */
export async function daemonRun(options: { proxyPort?: string; apiPort?: string }): Promise<number> {
  return runDaemon(resolveSettings({ flags: options }));
}

export async function daemonStart(options: { proxyPort?: string; apiPort?: string }): Promise<number> {
  const settings = resolveSettings({ flags: options });
  const { record, started } = await ensureDaemon(settings);
  process.stdout.write(`${started ? 'started' : 'already running:'} daemon pid ${record.pid}; router on port ${record.proxyPort}; API on ${record.socket}${record.apiPort ? ` and http://127.0.0.1:${record.apiPort}/api/v1 (token in ${join(settings.home, 'api-token')})` : ''}\n`);
  return 0;
}

export async function daemonStop(): Promise<number> {
  const record = await stopDaemon(homeLayout().root);
  process.stdout.write(record ? `stopped the daemon (pid ${record.pid}) and its apps\n` : 'the daemon is not running\n');
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
