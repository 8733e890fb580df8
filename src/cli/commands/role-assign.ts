import { accessApi } from '../access-api.js';
import { defineCommand } from '../command.js';

export default defineCommand<{ workspace?: string }>({
  name: 'role assign',
  description: 'give a user a role, everywhere or in one workspace',
  arguments: [
    { name: '<user>', description: 'the user name' },
    { name: '<role>', description: 'the role name' },
  ],
  options: [{ flags: '--workspace <workspace>', description: 'in this workspace only (default: everywhere)' }],
  examples: ['paasmaker role assign ana developer --workspace shop', 'paasmaker role assign ben viewer'],
  run: async ({ args, options }) => {
    await accessApi('POST', '/api/v1/allocations', { user: args[0], role: args[1], workspace: options.workspace ?? null });
    process.stdout.write(`${args[0]} is ${args[1]} ${options.workspace ? `in workspace ${options.workspace}` : 'everywhere'}\n`);
    return 0;
  },
});
