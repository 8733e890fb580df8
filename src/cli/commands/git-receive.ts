import { mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { postFile, type DeployResult } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { homeLayout } from '../../shared/paths.js';
import { defineCommand } from '../command.js';
import { reportError } from '../output.js';

export default defineCommand({
  name: 'git receive',
  description: 'run by the hook of a repository made by paasmaker git init: deploys the pushed commit of its branch',
  arguments: [{ name: '<app>', description: 'the app the pushes deploy' }],
  hidden: true,
  run: ({ args }) => gitReceive(args[0] as string),
});

const ZERO = /^0+$/;

/** What git said of a commit: its id, author and subject. */
async function commitOf(commit: string): Promise<{ commit: string; author: string; message: string }> {
  const { execa } = await import('execa');
  const { stdout } = await execa('git', ['log', '-1', '--format=%H%x00%an <%ae>%x00%s', commit, '--']);
  const [id, author, message] = stdout.split('\0');
  return { commit: id!, author: author ?? '', message: message ?? '' };
}

/**
 * `paasmaker git receive APP`, the pre-receive hook: for each pushed ref
 * (stdin: "OLD NEW REF" lines), a push of the remote's branch is deployed
 * (the commit as a tar.gz archive, uploaded to the daemon) and the deploy's
 * steps are written to stdout, which git shows as "remote: …". A failed
 * deploy exits 1: git refuses the push. Other refs are taken as they are.
 */
async function gitReceive(app: string): Promise<number> {
  const repository = resolve(process.env.GIT_DIR ?? '.');
  const { gitRemoteBranch } = await import('../../engine/index.js');
  const branch = gitRemoteBranch(repository);
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  let failed = false;
  for (const line of input.split('\n').filter((each) => each.trim() !== '')) {
    const [, next, ref] = line.trim().split(/\s+/);
    if (ref !== `refs/heads/${branch}`) {
      process.stdout.write(`${ref}: taken; only a push of ${branch} deploys ${app}\n`);
      continue;
    }
    if (!next || ZERO.test(next)) {
      process.stdout.write(`${branch} deleted: nothing to deploy\n`);
      continue;
    }
    try {
      await deployCommit(app, branch, next);
    } catch (error) {
      // On stdout, where git shows it to the pusher: the push is refused.
      reportError(error, process.stdout);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

/** Archives one commit and deploys it through the daemon's API, showing its steps. */
async function deployCommit(app: string, branch: string, commit: string): Promise<void> {
  const { execa } = await import('execa');
  const home = homeLayout().root;
  const folder = join(home, 'tmp');
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const file = join(folder, `push-${app}-${randomBytes(6).toString('hex')}.tar.gz`);
  try {
    await execa('git', ['archive', '--format=tar.gz', '-o', file, commit, '--']).catch((error: { stderr?: string; message: string }) => {
      throw new PaasmakerError('INVALID_REQUEST', `git archive of ${commit.slice(0, 7)} failed: ${error.stderr || error.message}`);
    });
    const info = await commitOf(commit);
    const [{ ensureDaemon }, { resolveSettings }, { followDeploy, deployedLine }] = await Promise.all([import('../../daemon/index.js'), import('../../shared/settings.js'), import('../deploy-stream.js')]);
    const { record, started } = await ensureDaemon(resolveSettings());
    if (started) process.stdout.write(`started the daemon (pid ${record.pid})\n`);
    process.stdout.write(`deploying ${app} from ${branch} at ${info.commit.slice(0, 7)}: ${info.message}\n`);
    const query = new URLSearchParams({ app, ref: branch, commit: info.commit, author: info.author, message: info.message, name: 'git push' });
    const stream = await followDeploy(record.socket, { app });
    const result = await postFile<DeployResult>(record.socket, `/api/v1/deploys?${query}`, file, 'application/gzip', 6 * 3_600_000).catch(async (error: unknown) => {
      await stream.close();
      throw error;
    });
    await stream.close(result.job);
    process.stdout.write(deployedLine(result));
  } finally {
    rmSync(file, { force: true });
  }
}
