import { callApi, runningDaemon, type Status } from '../../api/index.js';
import { homeLayout } from '../../shared/paths.js';
import { defineCommand } from '../command.js';

export default defineCommand<{ json?: boolean }>({
  name: 'daemon status',
  description: 'is it running: pid, socket, ports, uptime, apps',
  options: [{ flags: '--json', description: 'print one JSON object' }],
  examples: ['paasmaker daemon status', 'paasmaker daemon status --json'],
  run: async ({ options }) => {
    const record = runningDaemon(homeLayout().root);
    if (!record) {
      if (options.json) process.stdout.write(`${JSON.stringify({ running: false })}\n`);
      else process.stdout.write('the daemon is not running (paasmaker daemon start, or paasmaker up -d, starts it)\n');
      return options.json ? 0 : 1;
    }
    const status = await callApi<Status>(record.socket, 'GET', '/api/v1/status');
    if (options.json) process.stdout.write(`${JSON.stringify(status)}\n`);
    else process.stdout.write(`daemon pid ${status.pid}, up ${status.uptime} s; router on port ${status.proxyPort}${status.tlsPort ? ` (https on ${status.tlsPort})` : ''}; API on ${status.socket}${status.apiPort ? ` and 127.0.0.1:${status.apiPort}` : ''}\napps: ${status.apps.join(', ') || '(none)'}\n${status.degraded ? `degraded: ${status.degraded.reason}\n` : ''}`);
    return 0;
  },
});
