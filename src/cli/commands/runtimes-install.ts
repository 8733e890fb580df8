import { callApi, type JobRun } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { paasmakerHome } from '../../shared/paths.js';
import { runningPlatform } from '../running-platform.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  name: 'runtimes install',
  description: 'install the newest release of a runtime matching a version or range, for every app (Node.js, from the npm registry npm is configured with)',
  arguments: [{ name: '<runtime@version>', description: 'node@22, node@18.20, node@lts/iron, or node for the newest' }],
  examples: ['paasmaker runtimes install node@22', 'paasmaker runtimes install node@^20.11'],
  run: ({ args }) => runtimesInstall(args[0] as string),
});

/** "node@22" read as a runtime and a version or range ('*' when there is none). */
export function runtimeTarget(text: string, command: string): { runtime: string; version: string } {
  const match = /^([a-z][a-z0-9-]*)(?:@(.+))?$/.exec(text.trim());
  if (!match) throw new PaasmakerError('USAGE', `"${text}" is not RUNTIME@VERSION`, { hint: `for example: paasmaker runtimes ${command} node@22` });
  return { runtime: match[1]!, version: match[2] ?? '*' };
}

/** How long one request waits for the job before the CLI asks again. */
const WAIT_SECONDS = 60;

/**
 * `paasmaker runtimes install node@22`: the running platform installs it (a
 * job, in paasmaker jobs); with none running, this process does, telling
 * its progress.
 */
async function runtimesInstall(target: string): Promise<number> {
  const { runtime, version } = runtimeTarget(target, 'install');
  const socket = runningPlatform();
  if (!socket) {
    const { getRuntime, toRange } = await import('../../../runtimes/index.js');
    const plugin = getRuntime(runtime);
    const range = toRange(version);
    if (!plugin.install) throw new PaasmakerError('RUNTIME_UNKNOWN', `Paasmaker does not install ${runtime} versions itself`, { hint: "install it with your system's tools; paasmaker runtimes lists what it finds" });
    if (range === undefined) throw new PaasmakerError('RUNTIME_VERSION', `"${version}" is not a ${runtime} version or version range`, { hint: 'write a version or a range, such as 22, ^20.11 or lts/iron' });
    const installed = await plugin.install(range, { home: paasmakerHome(), env: process.env, progress: (line) => process.stderr.write(`${line}\n`) });
    process.stdout.write(installed.downloaded ? `installed ${runtime} ${installed.version} in ${installed.binDir}\n` : `${runtime} ${installed.version} is installed already (${installed.binDir})\n`);
    return 0;
  }
  let answer = await callApi<JobRun>(socket, 'POST', `/api/v1/runtimes/install?wait=${WAIT_SECONDS}`, { runtime, version }, (WAIT_SECONDS + 10) * 1000);
  while (answer.state === 'running') {
    process.stderr.write(`still installing (job ${answer.job}; paasmaker jobs show ${answer.job} -f follows it)\n`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const tree = await callApi<Array<{ id: string; state: string; detail: string | null }>>(socket, 'GET', `/api/v1/jobs/${encodeURIComponent(answer.job)}`, undefined, 10_000);
    const job = tree.find((candidate) => candidate.id === answer.job);
    if (job && job.state !== 'running' && job.state !== 'new' && job.state !== 'waiting') answer = { job: answer.job, state: job.state === 'success' ? 'success' : 'failed', detail: job.detail };
  }
  if (answer.state === 'failed') {
    process.stderr.write(`could not install ${target}: ${answer.detail ?? 'failed'} — job ${answer.job}\n`);
    return 1;
  }
  process.stdout.write(`${answer.detail ?? `installed ${target}`}\n`);
  return 0;
}
