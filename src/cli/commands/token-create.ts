import { accessApi } from '../access-api.js';
import { defineCommand } from '../command.js';

type Options = { user?: string; name?: string; json?: boolean };

export default defineCommand<Options>({
  name: 'token create',
  description: 'create an API token for a user (for the TCP API: Authorization: Bearer pm_…); it is shown this once',
  options: [
    { flags: '--user <name>', description: 'whose token (default: the local administrator)' },
    { flags: '--name <name>', description: 'what it is for (default "cli")' },
    { flags: '--json', description: 'print {"token": …} and its details as JSON' },
  ],
  examples: ['paasmaker token create --user ana --name laptop', 'paasmaker token create --user ci --json'],
  run: async ({ options }) => {
    const created = await accessApi<{ token: string; id: string; user: string; name: string }>('POST', '/api/v1/tokens', { user: options.user, name: options.name });
    if (options.json) process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
    else {
      process.stderr.write(`token ${created.id} (${created.name}) for ${created.user}; it is not shown again:\n`);
      process.stdout.write(`${created.token}\n`);
    }
    return 0;
  },
});
