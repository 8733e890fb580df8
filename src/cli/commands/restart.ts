import { callApi, type RestartResult } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { defineCommand } from '../command.js';
import { appNamed, platformRunning } from '../running-platform.js';

export default defineCommand<{ dir: string }>({
  name: 'restart',
  description: 'rolling restart: new processes first, the old ones drained and stopped',
  arguments: [{ name: '[target]', description: 'APP or APP/INSTANCE (default: the project in this folder)', completes: 'app-or-instance' }],
  options: [{ flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' }],
  examples: ['paasmaker restart              every instance of the project here', 'paasmaker restart shop/web     only the web processes of shop'],
  run: ({ args, options }) => restart(args[0] as string | undefined, options),
});

/** `paasmaker restart [APP[/INSTANCE]]`: a rolling restart, like a save. */
async function restart(target: string | undefined, options: { dir: string }): Promise<number> {
  const match = target === undefined ? undefined : /^([^/]+)(?:\/([^/]+))?$/.exec(target);
  if (target !== undefined && !match) throw new PaasmakerError('USAGE', `"${target}" is not APP or APP/INSTANCE`, { hint: 'for example: paasmaker restart shop/web' });
  const [name, instance] = [match?.[1], match?.[2]];
  const app = await appNamed(name, options.dir, 'paasmaker restart APP, or run it in the project folder');
  const socket = await platformRunning(app, { dir: name ? undefined : options.dir });
  const result = await callApi<RestartResult>(socket, 'POST', `/api/v1/apps/${encodeURIComponent(app)}/restart`, instance ? { instance } : {});
  process.stdout.write(result.ok ? `restarted ${target ?? app}\n` : `the new processes of ${target ?? app} did not start; the old ones still serve (see paasmaker logs)\n`);
  return result.ok ? 0 : 1;
}
