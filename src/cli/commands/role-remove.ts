import { accessApi, segment } from '../access-api.js';
import { defineCommand } from '../command.js';

export default defineCommand<{ yes?: boolean }>({
  name: 'role remove',
  description: 'remove a custom role (one users hold only with --yes: they lose it)',
  arguments: [{ name: '<name>', description: 'the role name' }],
  options: [{ flags: '--yes', description: 'also take it from the users who hold it' }],
  examples: ['paasmaker role remove deployer'],
  run: async ({ args, options }) => {
    const answer = await accessApi<{ removed: string; also: string[] }>('DELETE', `/api/v1/roles/${segment(args[0] as string)}${options.yes ? '?confirm=true' : ''}`);
    process.stdout.write(`removed role ${answer.removed}${answer.also.length > 0 ? ` (was ${answer.also.join(', ')})` : ''}\n`);
    return 0;
  },
});
