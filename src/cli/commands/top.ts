import { runningDaemon } from '../../api/client.js';
import { PaasmakerError } from '../../shared/errors.js';
import { homeLayout } from '../../shared/paths.js';
import { colorEnabled } from '../output.js';

/** `paasmaker top`: the terminal UI over the daemon, every project; q leaves it (the apps run on). */
export async function top(): Promise<number> {
  const daemon = runningDaemon(homeLayout().root);
  if (!daemon) throw new PaasmakerError('PLATFORM_UNREACHABLE', 'the daemon is not running', { hint: 'start projects in it with paasmaker up -d, or paasmaker daemon start' });
  if (!process.stdout.isTTY || !process.stdin.isTTY || process.env.CI) throw new PaasmakerError('USAGE', 'paasmaker top needs a terminal', { hint: 'for scripts: paasmaker ps --json, or the API' });
  const { ApiFeed, runTui } = await import('../../ui/index.js');
  await runTui(new ApiFeed(daemon.socket, daemon.proxyPort), { color: colorEnabled() });
  return 0;
}
