import { accessApi, segment } from '../access-api.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  name: 'token revoke',
  description: 'revoke an API token: it stops working at once',
  arguments: [{ name: '<id>', description: 'its id (paasmaker token list)' }],
  examples: ['paasmaker token revoke 3f9c2a1b7d0e'],
  run: async ({ args }) => {
    const token = await accessApi<{ id: string; user: string; name: string }>('DELETE', `/api/v1/tokens/${segment(args[0] as string)}`);
    process.stdout.write(`revoked token ${token.id} (${token.name}) of ${token.user}\n`);
    return 0;
  },
});
