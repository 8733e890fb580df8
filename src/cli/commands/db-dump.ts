import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { callApi, downloadFile, type DumpRun } from '../../api/index.js';
import { dumpFileName } from '../../shared/dump-formats.js';
import { byteSize } from '../output.js';
import { defineCommand } from '../command.js';
import { apiJob, dataPlatform, jobFailed, localJob, projectManifest } from '../data-jobs.js';

type Options = { output?: string; dir: string };

export default defineCommand<Options>({
  name: 'db dump',
  description: "write one of the app's services' data to a file: pg_dump -Fc, mariadb-dump, a Redis RDB, SQLite's online backup, a tar of a folder",
  arguments: [{ name: '[service]', description: 'service name (default: the first that keeps data)' }],
  options: [
    { flags: '-o, --output <file>', description: 'where to write it: a file, or a folder to write the default name in (default: <app>-<service>-<UTC time>.<ext> in this folder)', completes: 'file' },
    { flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' },
  ],
  examples: ['paasmaker db dump                 the first service of the project here, to shop-db-20261130-071903.pgdump', 'paasmaker db dump cache -o cache.rdb -C ../shop'],
  run: ({ args, options }) => dbDump(args[0] as string | undefined, options),
});

/** Where the dump goes: -o's file, the default name inside -o's folder when it is one, else the default name here. */
function outputFile(output: string | undefined, name: string): string {
  if (output === undefined) return resolve(name);
  return statSync(output, { throwIfNoEntry: false })?.isDirectory() ? resolve(output, name) : resolve(output);
}

/**
 * `paasmaker db dump [SERVICE] [-o FILE]`: the platform that works on the
 * app's data makes the dump as a job (its lines shown live), then this
 * command downloads it; with no platform running, one of its own makes it.
 * The file appears whole or not at all.
 */
async function dbDump(service: string | undefined, options: Options): Promise<number> {
  const manifest = await projectManifest(options.dir);
  const app = manifest.application.name;
  const socket = await dataPlatform(app);
  const isDump = (title: string) => title.startsWith('dump ');
  let target: string;
  let size: number;
  let what: string;
  if (socket) {
    const answer = await apiJob(socket, app, (wait) => callApi<DumpRun>(socket, 'POST', `/api/v1/apps/${encodeURIComponent(app)}/dump?wait=${wait}`, service ? { service } : {}));
    if (answer.state !== 'success') return jobFailed(`dump ${app}/${answer.service}`, answer);
    target = outputFile(options.output, dumpFileName(app, answer.service, answer.format));
    const partial = join(dirname(target), `.${basename(target)}.partial-${randomBytes(4).toString('hex')}`);
    try {
      size = await downloadFile(socket, answer.download, partial);
      renameSync(partial, target);
    } finally {
      rmSync(partial, { force: true });
    }
    what = `${app}/${answer.service} (${answer.plugin})`;
  } else {
    ({ target, size, what } = await localJob(app, isDump, async (platform) => {
      const chosen = platform.data.choose(manifest, service);
      const file = outputFile(options.output, dumpFileName(app, chosen.service, chosen.format));
      const partial = join(dirname(file), `.${basename(file)}.partial-${randomBytes(4).toString('hex')}`);
      try {
        const made = await platform.data.dump(manifest, chosen.service, partial);
        renameSync(partial, file);
        return { target: file, size: made.size, what: `${app}/${made.service} (${made.plugin})` };
      } finally {
        rmSync(partial, { force: true });
      }
    }));
  }
  process.stdout.write(`wrote ${target} (${byteSize(size)}): a dump of ${what}\n`);
  return 0;
}
