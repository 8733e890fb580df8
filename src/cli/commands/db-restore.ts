import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { postFile, type DataRun } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { paasmakerHome } from '../../shared/paths.js';
import type { ResolvedManifest } from '../../manifest/index.js';
import { defineCommand } from '../command.js';
import { byteSize } from '../output.js';
import { apiJob, confirmationNeeded, dataPlatform, jobFailed, localJob, projectManifest } from '../data-jobs.js';

type Options = { dir: string; yes?: boolean };

export default defineCommand<Options>({
  name: 'db restore',
  description: "replace one of the app's services' data with a dump (checked whole first; the app's processes are stopped meanwhile)",
  arguments: [
    { name: '<file>', description: 'a dump, as paasmaker db dump writes it', completes: 'file' },
    { name: '[service]', description: 'service name (default: the first that keeps data)' },
  ],
  options: [
    { flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' },
    { flags: '--yes', description: 'replace the data (without it, nothing is changed)' },
  ],
  examples: ['paasmaker db restore shop-db-20261130-071903.pgdump --yes', 'paasmaker db restore cache.rdb cache -C ../shop --yes'],
  run: ({ args, options }) => dbRestore(args[0] as string, args[1] as string | undefined, options),
});

/** The service a restore replaces, in words: the one named, else the manifest's first whose plugin can dump (as the platform picks it). */
async function serviceWords(manifest: ResolvedManifest, service: string | undefined): Promise<string> {
  if (service) return `service ${service}`;
  try {
    const home = paasmakerHome();
    // config.yml's plugins may provide the services: loaded as a platform loads them.
    await (await import('../../plugins/load.js')).loadPlugins(home);
    const first = (await import('../../services/index.js')).defaultDataService(manifest, home);
    if (first) return `service ${first} (its first that keeps data)`;
  } catch {
    // config.yml is the platform's to report
  }
  return 'first service that keeps data';
}

/**
 * `paasmaker db restore FILE [SERVICE] --yes`: replaces a service's data
 * with a dump, never without --yes. The platform that runs the app does it
 * (it stops the app's processes meanwhile, and starts them after), as a job
 * shown live; with none running, a platform of this command's own.
 */
async function dbRestore(file: string, service: string | undefined, options: Options): Promise<number> {
  const path = resolve(file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    throw new PaasmakerError('USAGE', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, { hint: 'paasmaker db restore FILE [SERVICE] --yes, FILE a dump as paasmaker db dump writes it' });
  }
  const manifest = await projectManifest(options.dir);
  const app = manifest.application.name;
  if (!options.yes) {
    const words = await serviceWords(manifest, service);
    throw confirmationNeeded(`restoring ${basename(path)} replaces the data of ${app}'s ${words}; nothing was changed`, `paasmaker db restore ${file}${service ? ` ${service}` : ''}${options.dir !== '.' ? ` -C ${options.dir}` : ''}`);
  }
  const socket = await dataPlatform(app);
  const isRestore = (title: string) => title.startsWith('restore ');
  if (socket) {
    const answer = await apiJob(socket, app, (wait) => {
      const query = new URLSearchParams({ wait: String(wait), name: basename(path), ...(service ? { service } : {}) });
      return postFile<DataRun>(socket, `/api/v1/apps/${encodeURIComponent(app)}/restore?${query}`, path, 'application/octet-stream', 6 * 3_600_000);
    });
    if (answer.state !== 'success') return jobFailed(`restore ${app}/${answer.name}`, answer);
    process.stdout.write(`restored ${app}/${answer.name} from ${path} (${byteSize(size)})\n`);
    return 0;
  }
  const restored = await localJob(app, isRestore, (platform) => platform.data.restore(manifest, service, path));
  process.stdout.write(`restored ${app}/${restored} from ${path} (${byteSize(size)})\n`);
  return 0;
}
