import type { UserView } from '../../shared/auth-views.js';
import { accessApi, shortTime } from '../access-api.js';
import { defineCommand } from '../command.js';
import { table } from '../output.js';

export default defineCommand<{ json?: boolean }>({
  name: 'user list',
  description: 'the users, with their roles ("role@workspace" for one workspace)',
  options: [{ flags: '--json', description: 'print JSON' }],
  examples: ['paasmaker user list', 'paasmaker user list --json'],
  run: async ({ options }) => {
    const users = await accessApi<UserView[]>('GET', '/api/v1/users');
    if (options.json) process.stdout.write(`${JSON.stringify(users, null, 2)}\n`);
    else process.stdout.write(table(['user', 'roles', 'password', 'created'], users.map((user) => [user.name, user.roles.join(', ') || '-', user.password ? 'yes' : 'no', shortTime(user.createdAt)])));
    return 0;
  },
});
