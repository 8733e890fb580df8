import { callApi } from '../../api/client.js';
import type { StatusSchema } from '../../api/routes.js';
import type { z } from 'zod';
import { PaasmakerError } from '../../shared/errors.js';
import { colorEnabled } from '../output.js';
import { runningPlatform } from '../running-platform.js';

/** `paasmaker top`: the terminal UI over the running platform's API (the daemon: every project); q leaves it (the apps run on). */
export async function top(): Promise<number> {
  const socket = runningPlatform();
  if (!socket) throw new PaasmakerError('PLATFORM_UNREACHABLE', 'no paasmaker is running', { hint: 'start projects in the daemon with paasmaker up -d, or paasmaker daemon start' });
  if (!process.stdout.isTTY || !process.stdin.isTTY || process.env.CI) throw new PaasmakerError('USAGE', 'paasmaker top needs a terminal', { hint: 'for scripts: paasmaker ps --json, or the API' });
  const status = await callApi<z.infer<typeof StatusSchema>>(socket, 'GET', '/api/v1/status', undefined, 5000);
  const { ApiFeed, runTui } = await import('../../ui/index.js');
  await runTui(new ApiFeed(socket, status.proxyPort), { color: colorEnabled() });
  return 0;
}
