import { accessApi, segment } from '../access-api.js';
import { defineCommand } from '../command.js';

export default defineCommand<{ yes?: boolean }>({
  name: 'user remove',
  description: 'remove a user (one who holds roles or tokens only with --yes: they go too)',
  arguments: [{ name: '<name>', description: 'the user name' }],
  options: [{ flags: '--yes', description: 'also remove their roles and tokens' }],
  examples: ['paasmaker user remove ben', 'paasmaker user remove ben --yes'],
  run: async ({ args, options }) => {
    const answer = await accessApi<{ removed: string; also: string[] }>('DELETE', `/api/v1/users/${segment(args[0] as string)}${options.yes ? '?confirm=true' : ''}`);
    process.stdout.write(`removed user ${answer.removed}${answer.also.length > 0 ? `, with ${answer.also.join(', ')}` : ''}\n`);
    return 0;
  },
});
