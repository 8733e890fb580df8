import type { RoleView } from '../../shared/auth-views.js';
import { accessApi } from '../access-api.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  name: 'role add',
  description: 'add a custom role: a name and its permissions (paasmaker role list shows the built-in ones)',
  arguments: [
    { name: '<name>', description: 'the role name' },
    { name: '<permission...>', description: 'its permissions: WORKSPACE_VIEW, APPLICATION_DEPLOY, …' },
  ],
  examples: ['paasmaker role add deployer WORKSPACE_VIEW APPLICATION_DEPLOY JOB_ABORT'],
  run: async ({ args }) => {
    const role = await accessApi<RoleView>('POST', '/api/v1/roles', { name: args[0], permissions: args[1] });
    process.stdout.write(`added role ${role.name}: ${role.permissions.join(' ')}\n`);
    return 0;
  },
});
