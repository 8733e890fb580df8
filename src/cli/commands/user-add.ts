import type { UserView } from '../../shared/auth-views.js';
import { accessApi, readPassword } from '../access-api.js';
import { defineCommand } from '../command.js';

type Options = { role?: string; workspace?: string; passwordStdin?: boolean; json?: boolean };

export default defineCommand<Options>({
  name: 'user add',
  description: 'add a user (who signs in to the console with a password, or uses API tokens)',
  arguments: [{ name: '<name>', description: 'the user name' }],
  options: [
    { flags: '--role <role>', description: 'give them this role (admin, developer, viewer or a custom one)' },
    { flags: '--workspace <workspace>', description: 'the role in this workspace only (default: everywhere)' },
    { flags: '--password-stdin', description: 'read a password from stdin (none: tokens only, until paasmaker user passwd)' },
    { flags: '--json', description: 'print JSON' },
  ],
  examples: ['paasmaker user add ana --role developer --workspace shop', 'echo "$PASSWORD" | paasmaker user add ben --role viewer --password-stdin'],
  run: async ({ args, options }) => {
    const password = options.passwordStdin ? await readPassword(true) : undefined;
    const user = await accessApi<UserView>('POST', '/api/v1/users', { name: args[0], password, role: options.role, workspace: options.workspace });
    if (options.json) process.stdout.write(`${JSON.stringify(user, null, 2)}\n`);
    else process.stdout.write(`added user ${user.name}${user.roles.length > 0 ? ` (${user.roles.join(', ')})` : ' (no role yet: paasmaker role assign gives one)'}\n`);
    return 0;
  },
});
