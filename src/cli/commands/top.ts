import { callApi } from '../../api/client.js';
import type { Status } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { colorEnabled } from '../output.js';
import { runningPlatform } from '../running-platform.js';
import { defineCommand } from '../command.js';
import { loadTui } from '../load-tui.js';

export default defineCommand({
  name: 'top',
  description: 'every project the running platform runs, live, in the terminal UI (q leaves it; the apps run on)',
  examples: ['paasmaker top'],
  run: () => top(),
});

/** `paasmaker top`: the terminal UI over the running platform's API (the daemon: every project); q leaves it (the apps run on). */
async function top(): Promise<number> {
  const socket = runningPlatform();
  if (!socket) throw new PaasmakerError('PLATFORM_UNREACHABLE', 'no paasmaker is running', { hint: 'start projects in the daemon with paasmaker up -d, or paasmaker daemon start' });
  if (!process.stdout.isTTY || !process.stdin.isTTY || process.env.CI) throw new PaasmakerError('USAGE', 'paasmaker top needs a terminal', { hint: 'for scripts: paasmaker ps --json, or the API' });
  const status = await callApi<Status>(socket, 'GET', '/api/v1/status', undefined, 5000);
  const { ApiFeed, runTui } = await loadTui();
  await runTui(new ApiFeed(socket, status.proxyPort), { color: colorEnabled() });
  return 0;
}
