import { accessApi } from '../access-api.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  name: 'workspace add',
  description: 'add a workspace (apps join it by application.workspace in their manifest, or paasmaker workspace move)',
  arguments: [{ name: '<name>', description: 'the workspace name' }],
  examples: ['paasmaker workspace add shop'],
  run: async ({ args }) => {
    await accessApi('POST', '/api/v1/workspaces', { name: args[0] });
    process.stdout.write(`added workspace ${args[0]}\n`);
    return 0;
  },
});
