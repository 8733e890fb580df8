import { callApi, type ScaleResult } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { defineCommand } from '../command.js';
import { appNamed, platformRunning } from '../running-platform.js';

export default defineCommand<{ dir: string }>({
  name: 'scale',
  description: 'change how many processes an instance type runs, live (the others keep running)',
  arguments: [{ name: '<spec...>', description: 'APP/INSTANCE=N, or INSTANCE=N in the project folder', completes: 'scale' }],
  options: [{ flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' }],
  examples: ['paasmaker scale web=3            three web processes for the project here', 'paasmaker scale shop/worker=0    stop the workers of shop, keep the rest'],
  run: ({ args, options }) => scale(args[0] as string[], options),
});

/** `paasmaker scale [APP/]INSTANCE=N …`: changes quantities live. */
async function scale(specs: string[], options: { dir: string }): Promise<number> {
  for (const spec of specs) {
    const match = /^(?:([a-z0-9][a-z0-9-]*)\/)?([a-z][a-z0-9_-]*)=(\d+)$/.exec(spec);
    if (!match) throw new PaasmakerError('USAGE', `"${spec}" is not APP/INSTANCE=N`, { hint: 'for example: paasmaker scale shop/web=3 (or web=3 in the project folder)' });
    const app = await appNamed(match[1], options.dir, 'paasmaker scale APP/INSTANCE=N, or run it in the project folder');
    const socket = await platformRunning(app, { dir: match[1] ? undefined : options.dir });
    const result = await callApi<ScaleResult>(socket, 'POST', `/api/v1/apps/${encodeURIComponent(app)}/scale`, { instance: match[2], quantity: Number(match[3]) });
    process.stdout.write(`${app}/${match[2]}: ${result.from} → ${result.to}\n`);
  }
  return 0;
}
