import type { RoleView } from '../../shared/auth-views.js';
import { accessApi } from '../access-api.js';
import { defineCommand } from '../command.js';
import { table } from '../output.js';

export default defineCommand<{ json?: boolean }>({
  name: 'role list',
  description: 'the roles (built-in admin, developer, viewer and custom ones) and their permissions',
  options: [{ flags: '--json', description: 'print JSON' }],
  examples: ['paasmaker role list'],
  run: async ({ options }) => {
    const roles = await accessApi<RoleView[]>('GET', '/api/v1/roles');
    if (options.json) process.stdout.write(`${JSON.stringify(roles, null, 2)}\n`);
    else process.stdout.write(table(['role', 'kind', 'permissions'], roles.map((role) => [role.name, role.builtIn ? 'built-in' : 'custom', role.permissions.join(' ')])));
    return 0;
  },
});
