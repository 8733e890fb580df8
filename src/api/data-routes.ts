import { renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { PaasmakerError } from '../shared/errors.js';
import { timeStamp } from '../shared/dump-formats.js';
import { byteSize } from '../shared/usage-text.js';
import { DataRunSchema, DumpRunSchema, SnapshotRemovedSchema, SnapshotSchema, type DataRun, type JobRun } from '../shared/views.js';
import { DumpRequestSchema, RestoreQuerySchema, SnapshotConfirmSchema, SnapshotRequestSchema, WaitQuerySchema } from './requests.js';
import { hasSnapshot } from '../engine/index.js';
import { answerAsJob, appRecord, FileAnswer, type ApiContext, type Route } from './route.js';

/** The largest dump a restore takes as its body. */
const RESTORE_LIMIT = 64 * 1024 ** 3;

/** The name a restore's upload is kept under: the one it was sent with, made safe ("dump" when nothing is left of it). */
export function uploadName(name: string | undefined): string {
  const safe = basename(name ?? 'dump').replace(/[^\w.-]/g, '_');
  return safe === '' || /^\.+$/.test(safe) ? 'dump' : safe;
}

/** The app's manifest (as it runs, else as it last ran), the app checked first. */
async function manifestOf(context: ApiContext, app: string) {
  return context.platform.manifestOf(appRecord(context, app).name);
}

/** A snapshot's name sent back as the confirmation, or CONFIRMATION_NEEDED saying what would change. */
function confirmSnapshot(app: string, name: string, confirm: string | undefined, what: string): void {
  if (confirm === name) return;
  throw new PaasmakerError('CONFIRMATION_NEEDED', `${what}${confirm === undefined ? '' : `; "${confirm}" is not its name`}`, { hint: `send the snapshot's name to confirm: {"confirm": "${name}"} (paasmaker db snapshot … ${name} --yes)` });
}

/**
 * An app's data: a dump of one service (made as a job, then downloaded
 * once), a restore from an uploaded dump, and snapshots of every service
 * that keeps data. Dumping and listing need SERVICE_EXPORT; anything that
 * replaces or deletes data, SERVICE_IMPORT.
 */
export const DATA_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/api/v1/apps/:app/dump',
    permission: 'SERVICE_EXPORT',
    scope: 'app',
    summary: "Dump one of the app's services (paasmaker db dump), as a job: answers within ?wait= seconds (default 10) with the job, and where to GET the dump once it succeeded",
    request: DumpRequestSchema,
    query: WaitQuerySchema,
    response: DumpRunSchema,
    handle: async (context, params, body, query: z.infer<typeof WaitQuerySchema>) => {
      const { service } = body as z.infer<typeof DumpRequestSchema>;
      const manifest = await manifestOf(context, params.app!);
      const chosen = context.platform.data.choose(manifest, service);
      let size: number | null = null;
      const run = await answerAsJob(
        (started) =>
          context.platform.data.dumpForDownload(manifest, chosen.service, started).then((made) => {
            size = made.size;
            return { ok: true, detail: `${made.service} (${made.plugin}): ${byteSize(made.size)}` };
          }),
        query.wait,
      );
      return { ...run, ...chosen, download: `/api/v1/apps/${encodeURIComponent(params.app!)}/dumps/${run.job}`, size };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/apps/:app/dumps/:id',
    permission: 'SERVICE_EXPORT',
    scope: 'app',
    summary: 'Download a dump POST /api/v1/apps/{app}/dump made (its id is the job\'s), streamed; it is removed once sent whole, or after six hours',
    produces: { type: 'application/octet-stream', description: 'the dump, as the service\'s plugin wrote it (the name to save it as in Content-Disposition)' },
    response: z.string(),
    handle: (context, params) => {
      const app = appRecord(context, params.app!).name;
      const dump = context.platform.data.claimDump(app, params.id!);
      return new FileAnswer(dump.file, dump.name, dump.release);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/restore',
    permission: 'SERVICE_IMPORT',
    scope: 'app',
    summary: "Replace one of the app's services' data with a dump sent as the body (paasmaker db restore), as a job: the file is checked whole and of the service's kind before anything changes; a running app's processes are stopped for the while and started again",
    query: RestoreQuerySchema,
    upload: {
      types: ['application/octet-stream', 'application/gzip'],
      limit: RESTORE_LIMIT,
      query: RestoreQuerySchema,
      description: 'the dump, as paasmaker db dump wrote it (at most 64 GiB)',
      // The app and the service, before a body that may be gigabytes is received.
      check: async (context, params, query: z.infer<typeof RestoreQuerySchema>) => {
        context.platform.data.choose(await manifestOf(context, params.app!), query.service);
      },
    },
    response: DataRunSchema,
    handle: async (context, params, _body, query: z.infer<typeof RestoreQuerySchema>, upload) => {
      const manifest = await manifestOf(context, params.app!);
      if (!upload) throw new PaasmakerError('INVALID_REQUEST', 'a restore takes the dump as its body', { hint: 'send the file with Content-Type application/octet-stream (paasmaker db restore FILE --yes does)' });
      const chosen = context.platform.data.choose(manifest, query.service);
      // The upload is removed once this answer goes; the job may outlive the answer, so it takes the file over, under the name it was sent with.
      const dir = context.platform.data.uploadDir();
      const gone = () => rmSync(dir, { recursive: true, force: true });
      let run: JobRun;
      try {
        const file = join(dir, uploadName(query.name));
        renameSync(upload.file, file);
        run = await answerAsJob(
          (started) =>
            context.platform.data
              .restore(manifest, chosen.service, file, started)
              .then((service) => ({ ok: true, detail: `restored ${service} from ${basename(file)}` }))
              .finally(gone),
          query.wait,
        );
      } catch (error) {
        gone();
        throw error;
      }
      return { ...run, name: chosen.service } satisfies DataRun;
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/snapshots',
    permission: 'SERVICE_EXPORT',
    scope: 'app',
    summary: "Take a snapshot of every service of the app that keeps data (paasmaker db snapshot), as a job, kept under PAASMAKER_HOME/snapshots/{app}/{name}",
    request: SnapshotRequestSchema,
    query: WaitQuerySchema,
    response: DataRunSchema,
    handle: async (context, params, body, query: z.infer<typeof WaitQuerySchema>) => {
      const manifest = await manifestOf(context, params.app!);
      const name = (body as z.infer<typeof SnapshotRequestSchema>).name ?? timeStamp();
      const run = await answerAsJob(
        (started) => context.platform.data.snapshot(manifest, name, started).then((row) => ({ ok: true, detail: `${row.services.join(', ')}: ${byteSize(row.size)}` })),
        query.wait,
      );
      return { ...run, name } satisfies DataRun;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/apps/:app/snapshots',
    permission: 'SERVICE_EXPORT',
    scope: 'app',
    summary: "The app's snapshots, oldest first (paasmaker db snapshots --json): name, time, size, services",
    response: z.array(SnapshotSchema),
    handle: (context, params) => context.platform.data.snapshots(appRecord(context, params.app!).name),
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/snapshots/:name/restore',
    permission: 'SERVICE_IMPORT',
    scope: 'app',
    summary: "Put every service of a snapshot back, as one job: the body must name the snapshot ({\"confirm\": \"<name>\"}); the app's processes are stopped first and started after; answers within ?wait= seconds (default 10)",
    request: SnapshotConfirmSchema,
    query: WaitQuerySchema,
    response: DataRunSchema,
    handle: async (context, params, body, query: z.infer<typeof WaitQuerySchema>) => {
      const manifest = await manifestOf(context, params.app!);
      const name = params.name!;
      const services = context.platform.data.snapshots(manifest.application.name).find((row) => row.name === name)?.services;
      // A snapshot that is not listed (none of that name, its record damaged) is refused by the restore itself.
      if (services) confirmSnapshot(params.app!, name, (body as z.infer<typeof SnapshotConfirmSchema>).confirm, `restoring snapshot ${name} replaces the data of ${params.app}'s ${services.join(', ')}`);
      const run = await answerAsJob(
        (started) => context.platform.data.restoreSnapshot(manifest, name, started).then((record) => ({ ok: true, detail: `restored ${name} (taken ${record.time})` })),
        query.wait,
      );
      return { ...run, name } satisfies DataRun;
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/apps/:app/snapshots/:name',
    permission: 'SERVICE_IMPORT',
    scope: 'app',
    summary: 'Delete a snapshot and its dumps: the body must name it ({"confirm": "<name>"})',
    request: SnapshotConfirmSchema,
    response: SnapshotRemovedSchema,
    handle: (context, params, body) => {
      const app = appRecord(context, params.app!).name;
      const name = params.name!;
      // Confirmed by its folder, so that one whose record is damaged can be removed too.
      if (hasSnapshot(context.platform.layout.root, app, name)) confirmSnapshot(app, name, (body as z.infer<typeof SnapshotConfirmSchema>).confirm, `removing snapshot ${name} of ${app} deletes its dumps`);
      context.platform.data.removeSnapshot(app, name);
      return { app, name, removed: true };
    },
  },
];
