import { createInterface } from 'node:readline/promises';
import { callApi, type RuntimeRemoved, type RuntimeRow } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { paasmakerHome } from '../../shared/paths.js';
import { platformSockets } from '../running-platform.js';
import { defineCommand } from '../command.js';
import { runtimeTarget } from './runtimes-install.js';

export default defineCommand<{ yes?: boolean }>({
  name: 'runtimes remove',
  description: 'delete a runtime version Paasmaker installed (refused while an app runs on it; asks first)',
  arguments: [{ name: '<runtime@version>', description: 'as paasmaker runtimes lists it: node@18.20.8 (or node@18: the one installed version it names)' }],
  options: [{ flags: '--yes', description: 'do not ask' }],
  examples: ['paasmaker runtimes remove node@18.20.8', 'paasmaker runtimes remove node@18 --yes'],
  run: ({ args, options }) => runtimesRemove(args[0] as string, options),
});

async function confirmed(runtime: string, version: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) throw new PaasmakerError('CONFIRMATION_NEEDED', `removing ${runtime} ${version} deletes it for every app`, { hint: `add --yes to confirm: paasmaker runtimes remove ${runtime}@${version} --yes` });
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(`Remove ${runtime} ${version}, installed by Paasmaker? [y/N] `);
  prompt.close();
  return /^y(es)?$/i.test(answer.trim());
}

/**
 * `paasmaker runtimes remove node@18.20.8 [--yes]`: refused while an app of
 * any running platform (the daemon, a foreground up) runs on it, naming them.
 */
async function runtimesRemove(target: string, options: { yes?: boolean }): Promise<number> {
  const { runtime, version: asked } = runtimeTarget(target, 'remove');
  const semver = (await import('semver')).default;
  const { installedVersions, toRange } = await import('../../../runtimes/index.js');
  const range = toRange(asked);
  const home = paasmakerHome();
  const matching = installedVersions(home, runtime).filter((installed) => range !== undefined && range !== '*' && semver.satisfies(installed.version, range));
  if (matching.length === 0) throw new PaasmakerError('RUNTIME_NOT_INSTALLED', `no ${runtime} matching "${asked}" was installed by Paasmaker`, { hint: 'paasmaker runtimes lists what is installed, and by what (source paasmaker)' });
  if (matching.length > 1) throw new PaasmakerError('USAGE', `"${asked}" names ${matching.length} installed versions: ${matching.map((installed) => installed.version).join(', ')}`, { hint: `name one: paasmaker runtimes remove ${runtime}@${matching[0]!.version}` });
  const version = matching[0]!.version;
  const sockets = platformSockets();
  // Each running platform knows what it runs: any of them may use it.
  const users = (
    await Promise.all(sockets.map((socket) => callApi<RuntimeRow[]>(socket, 'GET', '/api/v1/runtimes', undefined, 30_000).catch(() => [] as RuntimeRow[])))
  ).flatMap((rows) => rows.filter((row) => row.name === runtime).flatMap((row) => row.installed.filter((found) => found.source === 'paasmaker' && found.version === version).flatMap((found) => found.usedBy)));
  if (users.length > 0) {
    throw new PaasmakerError('IN_USE', `${runtime} ${version} is in use by ${[...new Set(users)].join(', ')}`, { hint: 'stop them first (paasmaker down, or paasmaker versions stop), or move them to another version' });
  }
  if (!(await confirmed(runtime, version, options.yes))) {
    process.stderr.write('Nothing was removed.\n');
    return 1;
  }
  if (sockets.length > 0) {
    const removed = await callApi<RuntimeRemoved>(sockets[0]!, 'DELETE', `/api/v1/runtimes/${encodeURIComponent(runtime)}/${encodeURIComponent(version)}`, { confirm: `${runtime}@${version}` });
    process.stdout.write(`removed ${removed.runtime} ${removed.version} (${removed.folder})\n`);
    return 0;
  }
  const { removeInstalled } = await import('../../../runtimes/index.js');
  removeInstalled(home, runtime, version);
  process.stdout.write(`removed ${runtime} ${version} (${matching[0]!.folder})\n`);
  return 0;
}
