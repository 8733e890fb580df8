import { accessApi, segment } from '../access-api.js';
import { defineCommand } from '../command.js';

export default defineCommand<{ yes?: boolean }>({
  name: 'workspace remove',
  description: 'remove a workspace (refused while it holds apps; with role allocations only with --yes)',
  arguments: [{ name: '<name>', description: 'the workspace name' }],
  options: [{ flags: '--yes', description: 'also remove the roles users hold in it' }],
  examples: ['paasmaker workspace remove shop'],
  run: async ({ args, options }) => {
    const answer = await accessApi<{ removed: string; also: string[] }>('DELETE', `/api/v1/workspaces/${segment(args[0] as string)}${options.yes ? '?confirm=true' : ''}`);
    process.stdout.write(`removed workspace ${answer.removed}${answer.also.length > 0 ? `, with ${answer.also.join(', ')}` : ''}\n`);
    return 0;
  },
});
