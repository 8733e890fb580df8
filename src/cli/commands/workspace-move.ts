import { accessApi, segment } from '../access-api.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  name: 'workspace move',
  description: "put an app in another workspace (its manifest's application.workspace, when set, wins at its next up)",
  arguments: [
    { name: '<app>', description: 'the app', completes: 'app' },
    { name: '<workspace>', description: 'the workspace' },
  ],
  examples: ['paasmaker workspace move shop team-a'],
  run: async ({ args }) => {
    await accessApi('POST', `/api/v1/apps/${segment(args[0] as string)}/workspace`, { workspace: args[1] });
    process.stdout.write(`${args[0]} is in workspace ${args[1]}\n`);
    return 0;
  },
});
