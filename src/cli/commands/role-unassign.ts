import { accessApi } from '../access-api.js';
import { defineCommand } from '../command.js';

export default defineCommand<{ workspace?: string }>({
  name: 'role unassign',
  description: 'take a role from a user (everywhere, or in the workspace given)',
  arguments: [
    { name: '<user>', description: 'the user name' },
    { name: '<role>', description: 'the role name' },
  ],
  options: [{ flags: '--workspace <workspace>', description: 'the role held in this workspace' }],
  examples: ['paasmaker role unassign ana developer --workspace shop'],
  run: async ({ args, options }) => {
    await accessApi('DELETE', '/api/v1/allocations', { user: args[0], role: args[1], workspace: options.workspace ?? null });
    process.stdout.write(`${args[0]} is no longer ${args[1]} ${options.workspace ? `in workspace ${options.workspace}` : 'everywhere'}\n`);
    return 0;
  },
});
