import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ResolvedManifest } from '../manifest/index.js';
import { checkDumpKind, type DataService, type DataStep, type Services } from '../services/index.js';
import { dumpExtension, timeStamp } from '../shared/dump-formats.js';
import { PaasmakerError } from '../shared/errors.js';
import { byteSize } from '../shared/usage-text.js';
import type { SnapshotRow } from '../shared/views.js';
import { withAppStopped, type AppPauseParts } from './app-pause.js';
import type { Job, Jobs } from './jobs.js';
import { ensureSnapshotsOf, listSnapshots, readSnapshot, removeSnapshot, snapshotDir, writeSnapshot, type SnapshotRecord } from './snapshots.js';

export interface DataToolsParts extends AppPauseParts {
  /** PAASMAKER_HOME */
  home: string;
  jobs: Jobs;
  services: Services;
}

/** What a dump made: the service, its plugin and format, the file and its size. */
export interface DumpMade {
  job: string;
  service: string;
  plugin: string;
  format: string;
  file: string;
  size: number;
}

/** How long a dump made for the API waits to be downloaded. */
const DUMP_KEPT_MS = 6 * 3_600_000;

/**
 * An app's data, as jobs: a dump of one service, a restore into one (the
 * app's processes stopped for the while), and snapshots of every service
 * that keeps data, kept under PAASMAKER_HOME/snapshots/<app>/<name>/.
 */
export class DataTools {
  constructor(private readonly parts: DataToolsParts) {}

  /** The job's log and its abort, as a plugin's dump or restore sees them. */
  private step(job: Job): DataStep {
    const controller = new AbortController();
    job.onAbort(() => controller.abort());
    return { say: (line) => job.log(line), signal: controller.signal };
  }

  /** The service a dump or restore of the app takes (the one named, else its first that keeps data): a wrong name is refused here, before any job. */
  choose(manifest: ResolvedManifest, service?: string): { service: string; plugin: string; format: string } {
    const chosen = this.parts.services.chooseDataService(manifest, service);
    return { service: chosen.service.name, plugin: chosen.plugin, format: chosen.format };
  }

  /**
   * Dumps one service into `file` (a path, or one made from the job's id and
   * the format), as the job "dump SERVICE"; onJob learns its id as it starts.
   * A dump that fails leaves no file.
   */
  dump(manifest: ResolvedManifest, service: string | undefined, file: string | ((job: string, format: string) => string), onJob?: (id: string) => void): Promise<DumpMade> {
    const { jobs, services } = this.parts;
    const app = manifest.application.name;
    const chosen = this.choose(manifest, service);
    return jobs.run(app, `dump ${chosen.service}`, async (job) => {
      onJob?.(job.id);
      const target = await services.dataService(manifest, chosen.service);
      const path = typeof file === 'string' ? file : file(job.id, target.format);
      try {
        await services.dump(target, path, this.step(job));
      } catch (error) {
        rmSync(path, { force: true });
        throw error;
      }
      const size = statSync(path).size;
      job.detail = `${chosen.service} (${target.plugin}): ${byteSize(size)}`;
      return { job: job.id, service: chosen.service, plugin: target.plugin, format: target.format, file: path, size };
    });
  }

  /**
   * Replaces one service's data with a dump, as the job "restore SERVICE":
   * a file of the wrong kind is refused before anything stops; the app's
   * processes are stopped while the plugin swaps the data in, then started.
   */
  restore(manifest: ResolvedManifest, service: string | undefined, file: string, onJob?: (id: string) => void): Promise<string> {
    const { jobs, services } = this.parts;
    const app = manifest.application.name;
    const chosen = this.choose(manifest, service);
    return jobs.run(app, `restore ${chosen.service}`, async (job) => {
      onJob?.(job.id);
      await checkDumpKind(file, { format: chosen.format, request: { service: chosen.service } });
      const target = await services.dataService(manifest, chosen.service);
      await withAppStopped(this.parts, app, (line) => job.log(line), () => services.restore(target, file, this.step(job)));
      job.detail = `restored ${chosen.service} (${target.plugin}) from ${basename(file)}`;
      return chosen.service;
    });
  }

  /** PAASMAKER_HOME/dumps/<app>: dumps made for the API to download, each until it is (six hours at most). */
  private dumpsOf(app: string): string {
    mkdirSync(join(this.parts.home, 'dumps'), { recursive: true, mode: 0o700 });
    const dir = join(this.parts.home, 'dumps', app);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /**
   * Dumps a service for the API (see dump()) into PAASMAKER_HOME/dumps, as
   * <job>.<service><extension> once whole (a dump being made cannot be
   * downloaded); dumps nobody downloaded in six hours are removed.
   */
  async dumpForDownload(manifest: ResolvedManifest, service: string | undefined, onJob?: (id: string) => void): Promise<DumpMade> {
    this.pruneDumps();
    const dir = this.dumpsOf(manifest.application.name);
    const name = this.choose(manifest, service).service;
    const made = await this.dump(manifest, name, (job, format) => join(dir, `.${job}.${name}${dumpExtension(format)}.partial`), onJob);
    const file = join(dir, basename(made.file).slice(1, -'.partial'.length));
    renameSync(made.file, file);
    return { ...made, file };
  }

  /**
   * Takes a dump made for the API out to be sent: its file (no one else can
   * take it meanwhile), size and the name to save it as; `release(whole)`
   * removes it once it went out whole, else puts it back for another try.
   * DUMP_NOT_FOUND when none is kept.
   */
  claimDump(app: string, id: string): { file: string; size: number; name: string; release: (whole: boolean) => void } {
    const dir = join(this.parts.home, 'dumps', app);
    const found = existsSync(dir) && /^[\w-]+$/.test(id) ? readdirSync(dir).find((name) => name.startsWith(`${id}.`) && !name.includes('.sending-')) : undefined;
    if (!found) throw new PaasmakerError('DUMP_NOT_FOUND', `no dump ${id} of ${app} is kept`);
    const kept = join(dir, found);
    const file = `${kept}.sending-${randomBytes(4).toString('hex')}`;
    renameSync(kept, file);
    // <job>.<service><extension>: a service's name is a word, without dots.
    const rest = found.slice(id.length + 1);
    const service = rest.slice(0, rest.indexOf('.'));
    const extension = rest.slice(service.length);
    const { size, mtime } = statSync(file);
    const release = (whole: boolean) => {
      if (whole) return rmSync(file, { force: true });
      try {
        renameSync(file, kept);
      } catch {
        // pruned meanwhile: nothing to put back
      }
    };
    return { file, size, name: `${app}-${service}-${timeStamp(mtime)}${extension}`, release };
  }

  /** Removes dumps for the API older than six hours (never downloaded). */
  private pruneDumps(): void {
    const root = join(this.parts.home, 'dumps');
    if (!existsSync(root)) return;
    const before = Date.now() - DUMP_KEPT_MS;
    for (const app of readdirSync(root)) {
      for (const name of readdirSync(join(root, app))) {
        const file = join(root, app, name);
        // A file taken or removed meanwhile (a download) has no stat: nothing to prune.
        if ((statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) < before) rmSync(file, { force: true });
      }
    }
  }

  /**
   * Dumps every service of the app that keeps data, one after the other,
   * as the job "snapshot NAME" (a step per service) into
   * PAASMAKER_HOME/snapshots/<app>/<name>/: made aside, and put in its place
   * only once whole.
   */
  snapshot(manifest: ResolvedManifest, name: string | undefined, onJob?: (id: string) => void): Promise<SnapshotRow> {
    const { home, jobs, services } = this.parts;
    const app = manifest.application.name;
    const snapshot = name ?? timeStamp();
    const dir = snapshotDir(home, app, snapshot);
    if (existsSync(dir)) throw new PaasmakerError('ALREADY_EXISTS', `${app} has a snapshot "${snapshot}" already`, { hint: `choose another name, or remove it first: paasmaker db snapshot rm ${snapshot}` });
    const names = services.dataServiceNames(manifest);
    if (names.length === 0) this.choose(manifest); // says why none can be
    return jobs.run(app, `snapshot ${snapshot}`, async (job) => {
      onJob?.(job.id);
      const time = new Date().toISOString();
      const partial = join(ensureSnapshotsOf(home, app), `.${snapshot}.partial-${randomBytes(4).toString('hex')}`);
      mkdirSync(partial, { mode: 0o700 });
      try {
        const record: SnapshotRecord = { app, name: snapshot, time, services: [] };
        for (const service of names) {
          const made = await this.dump(manifest, service, (_job, format) => join(partial, `${service}${dumpExtension(format)}`));
          record.services.push({ service, plugin: made.plugin, format: made.format, file: basename(made.file), size: made.size });
        }
        writeSnapshot(partial, record);
        if (existsSync(dir)) throw new PaasmakerError('ALREADY_EXISTS', `${app} has a snapshot "${snapshot}" already`, { hint: 'another one of that name was taken meanwhile' });
        renameSync(partial, dir);
        const total = record.services.reduce((sum, each) => sum + each.size, 0);
        job.detail = `${names.join(', ')}: ${byteSize(total)}`;
        return { app, name: snapshot, time, size: total, services: names };
      } finally {
        rmSync(partial, { recursive: true, force: true });
      }
    });
  }

  /** The app's snapshots, oldest first. */
  snapshots(app: string): SnapshotRow[] {
    return listSnapshots(this.parts.home, app);
  }

  /**
   * Puts every service of a snapshot back, as the job "snapshot restore
   * NAME": each dump's service and kind are checked first; the app's
   * processes are stopped once for all the services, and started after.
   */
  restoreSnapshot(manifest: ResolvedManifest, name: string, onJob?: (id: string) => void): Promise<SnapshotRecord> {
    const { home, jobs, services } = this.parts;
    const app = manifest.application.name;
    const record = readSnapshot(home, app, name);
    const dir = snapshotDir(home, app, name);
    const chosen = record.services.map((each) => ({ ...this.choose(manifest, each.service), file: join(dir, each.file) }));
    return jobs.run(app, `snapshot restore ${name}`, async (job) => {
      onJob?.(job.id);
      for (const each of chosen) await checkDumpKind(each.file, { format: each.format, request: { service: each.service } });
      const targets: Array<(typeof chosen)[number] & { target: DataService }> = [];
      for (const each of chosen) targets.push({ ...each, target: await services.dataService(manifest, each.service) });
      await withAppStopped(this.parts, app, (line) => job.log(line), async () => {
        for (const each of targets) await jobs.run(app, `restore ${each.service}`, (step) => services.restore(each.target, each.file, this.step(step)));
      });
      job.detail = `${chosen.map((each) => each.service).join(', ')} as of ${record.time}`;
      return record;
    });
  }

  /** Deletes a snapshot and its dumps. */
  removeSnapshot(app: string, name: string): void {
    removeSnapshot(this.parts.home, app, name);
  }
}
