import type { TokenView } from '../../shared/auth-views.js';
import { accessApi, shortTime } from '../access-api.js';
import { defineCommand } from '../command.js';
import { table } from '../output.js';

export default defineCommand<{ user?: string; json?: boolean }>({
  name: 'token list',
  description: 'the API tokens (ids, users, names, last use; never the tokens themselves)',
  options: [
    { flags: '--user <name>', description: "only this user's" },
    { flags: '--json', description: 'print JSON' },
  ],
  examples: ['paasmaker token list', 'paasmaker token list --user ana --json'],
  run: async ({ options }) => {
    const tokens = await accessApi<TokenView[]>('GET', `/api/v1/tokens${options.user ? `?user=${encodeURIComponent(options.user)}` : ''}`);
    if (options.json) process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`);
    else if (tokens.length === 0) process.stdout.write('No API tokens: paasmaker token create --user NAME makes one.\n');
    else process.stdout.write(table(['id', 'user', 'name', 'created', 'last used'], tokens.map((token) => [token.id, token.user, token.name, shortTime(token.createdAt), shortTime(token.lastUsed)])));
    return 0;
  },
});
