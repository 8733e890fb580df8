import { callApi, type DataRun, type SnapshotRow } from '../../api/index.js';
import { timeStamp } from '../../shared/dump-formats.js';
import { defineCommand } from '../command.js';
import { apiJob, dataPlatform, jobFailed, localJob, projectManifest } from '../data-jobs.js';
import { byteSize } from '../output.js';

type Options = { dir: string };

export default defineCommand<Options>({
  name: 'db snapshot',
  description: 'dump every service of the app that keeps data, at once, under PAASMAKER_HOME/snapshots/<app>/<name>',
  arguments: [{ name: '[name]', description: 'letters, digits, ".", "-" and "_" (default: the UTC time, 20261130-071903)' }],
  options: [{ flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' }],
  examples: ['paasmaker db snapshot before-migration', 'paasmaker db snapshot                 named after the UTC time', 'paasmaker db snapshot restore before-migration --yes'],
  run: ({ args, options }) => dbSnapshot(args[0] as string | undefined, options),
});

/** `paasmaker db snapshot [NAME]`: a snapshot of every service that keeps data, as one job shown live. */
async function dbSnapshot(name: string | undefined, options: Options): Promise<number> {
  const manifest = await projectManifest(options.dir);
  const app = manifest.application.name;
  const snapshot = name ?? timeStamp();
  const isSnapshot = (title: string) => title === `snapshot ${snapshot}`;
  const socket = await dataPlatform(app);
  let row: SnapshotRow | undefined;
  if (socket) {
    const answer = await apiJob(socket, app, (wait) => callApi<DataRun>(socket, 'POST', `/api/v1/apps/${encodeURIComponent(app)}/snapshots?wait=${wait}`, { name: snapshot }));
    if (answer.state !== 'success') return jobFailed(`take snapshot ${snapshot} of ${app}`, answer);
    row = (await callApi<SnapshotRow[]>(socket, 'GET', `/api/v1/apps/${encodeURIComponent(app)}/snapshots`, undefined, 5000)).find((each) => each.name === snapshot);
  } else {
    row = await localJob(app, isSnapshot, (platform) => platform.data.snapshot(manifest, snapshot));
  }
  process.stdout.write(`snapshot ${snapshot} of ${app}: ${row ? `${row.services.join(', ')} (${byteSize(row.size)})` : 'taken'}\n`);
  return 0;
}
