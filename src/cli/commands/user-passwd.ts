import { accessApi, readPassword, segment } from '../access-api.js';
import { defineCommand } from '../command.js';

type Options = { passwordStdin?: boolean; remove?: boolean };

export default defineCommand<Options>({
  name: 'user passwd',
  description: "set a user's password (typed twice, or from stdin); their console sessions end",
  arguments: [{ name: '<name>', description: 'the user name' }],
  options: [
    { flags: '--password-stdin', description: 'read it from stdin' },
    { flags: '--remove', description: 'remove the password: the user signs in by token (or one-time link) only' },
  ],
  examples: ['paasmaker user passwd ana', 'echo "$PASSWORD" | paasmaker user passwd ana --password-stdin'],
  run: async ({ args, options }) => {
    const password = options.remove ? null : await readPassword(options.passwordStdin);
    await accessApi('POST', `/api/v1/users/${segment(args[0] as string)}/password`, { password });
    process.stdout.write(`${password === null ? 'removed the password of' : 'set the password of'} ${args[0]}\n`);
    return 0;
  },
});
