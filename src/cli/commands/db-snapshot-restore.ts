import { callApi, type DataRun } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { apiJob, appSnapshot, confirmationNeeded, dataPlatform, jobFailed, localJob, projectManifest } from '../data-jobs.js';

type Options = { dir: string; yes?: boolean };

export default defineCommand<Options>({
  name: 'db snapshot restore',
  description: "put every service of a snapshot back, as one job: the app's processes are stopped first and started after",
  arguments: [{ name: '<name>', description: 'the snapshot, as paasmaker db snapshots lists it' }],
  options: [
    { flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' },
    { flags: '--yes', description: 'replace the data (without it, nothing is changed)' },
  ],
  examples: ['paasmaker db snapshot restore before-migration --yes'],
  run: ({ args, options }) => dbSnapshotRestore(args[0] as string, options),
});

/** `paasmaker db snapshot restore NAME --yes`: through the platform that runs the app, else one of this command's own. */
async function dbSnapshotRestore(name: string, options: Options): Promise<number> {
  const manifest = await projectManifest(options.dir);
  const app = manifest.application.name;
  const row = await appSnapshot(app, name);
  if (!options.yes) throw confirmationNeeded(`restoring snapshot ${name} (${row.time}) replaces the data of ${app}'s ${row.services.join(', ')}; nothing was changed`, `paasmaker db snapshot restore ${name}${options.dir !== '.' ? ` -C ${options.dir}` : ''}`);
  const isRestore = (title: string) => title === `snapshot restore ${name}`;
  const socket = await dataPlatform(app);
  if (socket) {
    const answer = await apiJob(socket, app, (wait) => callApi<DataRun>(socket, 'POST', `/api/v1/apps/${encodeURIComponent(app)}/snapshots/${encodeURIComponent(name)}/restore?wait=${wait}`, { confirm: name }));
    if (answer.state !== 'success') return jobFailed(`restore snapshot ${name} of ${app}`, answer);
  } else {
    await localJob(app, isRestore, (platform) => platform.data.restoreSnapshot(manifest, name));
  }
  process.stdout.write(`restored ${app}'s ${row.services.join(', ')} from snapshot ${name} (${row.time})\n`);
  return 0;
}
