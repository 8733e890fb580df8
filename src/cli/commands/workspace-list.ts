import type { WorkspaceView } from '../../shared/auth-views.js';
import { accessApi } from '../access-api.js';
import { defineCommand } from '../command.js';
import { table } from '../output.js';

export default defineCommand<{ json?: boolean }>({
  name: 'workspace list',
  description: 'the workspaces and the apps each holds',
  options: [{ flags: '--json', description: 'print JSON' }],
  examples: ['paasmaker workspace list'],
  run: async ({ options }) => {
    const workspaces = await accessApi<WorkspaceView[]>('GET', '/api/v1/workspaces');
    if (options.json) process.stdout.write(`${JSON.stringify(workspaces, null, 2)}\n`);
    else process.stdout.write(table(['workspace', 'apps'], workspaces.map((workspace) => [workspace.name, workspace.apps.join(', ') || '-'])));
    return 0;
  },
});
