import { isAbsolute, resolve } from 'node:path';
import { callApi, type DeployResult } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { isRemoteSource } from '../../shared/source-location.js';
import { defineCommand } from '../command.js';

type Options = { ref?: string; app?: string; allowDirty?: boolean; switch?: boolean };

export default defineCommand<Options>({
  name: 'deploy',
  description: 'make an immutable version of an app from a git repository, an archive or a folder, and make it current (its steps shown live)',
  arguments: [{ name: '[source]', description: 'a git repository (a path or any URL git fetches), a .tar.gz/.zip archive, or a folder (default: the repository of this folder, at HEAD)', completes: 'dir' }],
  options: [
    { flags: '--ref <ref>', description: 'the branch, tag or commit to deploy (git; default HEAD)' },
    { flags: '--app <name>', description: "the app's name (default: the manifest's application.name)" },
    { flags: '--allow-dirty', description: "deploy a git work tree with its uncommitted changes" },
    { flags: '--no-switch', description: 'do not make it current: it runs as a preview on vN.APP.localhost' },
  ],
  examples: [
    'paasmaker deploy                       this repository at HEAD: v1, v2… of its app',
    'paasmaker deploy --ref v1.4            a tag',
    'paasmaker deploy https://example.com/shop.git --app shop',
    'paasmaker deploy build/shop.tar.gz     an archive',
    'paasmaker deploy --no-switch           try it on vN.APP.localhost first',
  ],
  run: ({ args, options }) => deploy(args[0] as string | undefined, options),
});

/** A source as the daemon reads it: a URL as given, a path made absolute. */
function sourceOf(source: string | undefined): string {
  if (source === undefined) return process.cwd();
  if (source.trim() === '') throw new PaasmakerError('USAGE', 'the source is empty', { hint: 'paasmaker deploy [a repository, archive or folder]' });
  if (isRemoteSource(source)) return source;
  return isAbsolute(source) ? source : resolve(source);
}

/** `paasmaker deploy [SOURCE]`: asks the daemon (started if needed) for a new version, and shows its job tree while it is made. */
async function deploy(source: string | undefined, options: Options): Promise<number> {
  if (options.app !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(options.app)) throw new PaasmakerError('USAGE', `"${options.app}" is not an app name`, { hint: 'lower-case letters, digits and dashes, as application.name in paasmaker.yml' });
  const location = sourceOf(source);
  const [{ ensureDaemon }, { resolveSettings }, { followDeploy, deployedLine }] = await Promise.all([import('../../daemon/index.js'), import('../../shared/settings.js'), import('../deploy-stream.js')]);
  const { record, started } = await ensureDaemon(resolveSettings());
  if (started) process.stdout.write(`started the daemon (pid ${record.pid}); router on port ${record.proxyPort}\n`);
  const stream = await followDeploy(record.socket, { app: options.app });
  const request = { source: location, directory: process.cwd(), ref: options.ref, app: options.app, allowDirty: options.allowDirty, switch: options.switch };
  const result = await callApi<DeployResult>(record.socket, 'POST', '/api/v1/deploys', request, 6 * 3_600_000).catch(async (error: unknown) => {
    await stream.close();
    throw error;
  });
  await stream.close(result.job);
  process.stdout.write(deployedLine(result));
  return 0;
}
