import { createInterface } from 'node:readline/promises';
import { callApi, type SnapshotRow } from '../../api/index.js';
import { isPaasmakerError } from '../../shared/errors.js';
import { paasmakerHome } from '../../shared/paths.js';
import { defineCommand } from '../command.js';
import { appSnapshot, confirmationNeeded, dataPlatform, projectManifest } from '../data-jobs.js';

type Options = { dir: string; yes?: boolean };

export default defineCommand<Options>({
  name: 'db snapshot rm',
  description: 'delete a snapshot and its dumps (asks first)',
  arguments: [{ name: '<name>', description: 'the snapshot, as paasmaker db snapshots lists it' }],
  options: [
    { flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' },
    { flags: '--yes', description: 'do not ask' },
  ],
  examples: ['paasmaker db snapshot rm before-migration        asks for the name back', 'paasmaker db snapshot rm before-migration --yes'],
  run: ({ args, options }) => dbSnapshotRm(args[0] as string, options),
});

/** Whether the user confirms, typing the name back (a terminal), or said --yes; elsewhere, an error saying to add --yes. */
async function confirmed(app: string, row: SnapshotRow | { name: string }, options: Options): Promise<boolean> {
  const what = 'time' in row ? `removing snapshot ${row.name} of ${app} (${row.time}: ${row.services.join(', ')}) deletes its dumps` : `removing snapshot ${row.name} of ${app} (its record cannot be read) deletes its folder`;
  if (options.yes) return true;
  if (!process.stdin.isTTY) throw confirmationNeeded(what, `paasmaker db snapshot rm ${row.name}`);
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(`${what}. Type its name (${row.name}) to confirm: `);
  prompt.close();
  return answer.trim() === row.name;
}

/** `paasmaker db snapshot rm NAME`: through the running platform's API, else on PAASMAKER_HOME here. */
async function dbSnapshotRm(name: string, options: Options): Promise<number> {
  const app = (await projectManifest(options.dir)).application.name;
  // One whose record is damaged can be removed all the same.
  const row = await appSnapshot(app, name).catch((error: unknown) => {
    if (isPaasmakerError(error) && error.code === 'DUMP_INVALID') return { name };
    throw error;
  });
  if (!(await confirmed(app, row, options))) {
    process.stderr.write('Nothing was deleted.\n');
    return 1;
  }
  const socket = await dataPlatform(app);
  if (socket) await callApi(socket, 'DELETE', `/api/v1/apps/${encodeURIComponent(app)}/snapshots/${encodeURIComponent(name)}`, { confirm: name });
  else (await import('../../engine/index.js')).removeSnapshot(paasmakerHome(), app, name);
  process.stdout.write(`removed snapshot ${name} of ${app}\n`);
  return 0;
}
