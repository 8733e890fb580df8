import { PaasmakerError } from '../../shared/errors.js';
import { selfCommand } from '../../shared/executable.js';
import { homeLayout } from '../../shared/paths.js';
import { defineCommand } from '../command.js';

export default defineCommand<{ branch: string }>({
  name: 'git init',
  description: 'make a git repository to push an app to: each push of its branch deploys it, the steps shown in the push',
  arguments: [{ name: '<app>', description: 'the app the pushes deploy', completes: 'app' }],
  options: [{ flags: '--branch <branch>', description: 'the branch whose pushes deploy', default: 'main' }],
  examples: ['paasmaker git init shop', 'git remote add paasmaker "$(paasmaker git init shop | …)"  (it prints the line to run)', 'git push paasmaker main'],
  run: ({ args, options }) => gitInit(args[0] as string, options.branch),
});

/** `paasmaker git init APP`: the bare repository under PAASMAKER_HOME/git, made once; prints how to push to it. */
async function gitInit(app: string, branch: string): Promise<number> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(app)) throw new PaasmakerError('USAGE', `"${app}" is not an app name`, { hint: 'lower-case letters, digits and dashes, as application.name in paasmaker.yml' });
  if (!/^[A-Za-z0-9._/-]+$/.test(branch) || branch.startsWith('-') || branch.includes('..')) throw new PaasmakerError('USAGE', `"${branch}" is not a branch name`, { hint: 'paasmaker git init APP --branch main' });
  const { createGitRemote } = await import('../../engine/index.js');
  // The hook runs this same paasmaker: the node binary and script of this command, or the executable.
  const remote = createGitRemote({ home: homeLayout().root, app, branch, hook: [...selfCommand(), 'git', 'receive', app] });
  process.stdout.write(`${remote.created ? 'made' : 'already there:'} ${remote.path} (a push of ${remote.branch} deploys ${app})\n`);
  process.stdout.write(`git remote add paasmaker ${remote.path}\n`);
  return 0;
}
