import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ResolvedManifest } from '../manifest/index.js';
import { checkDumpKind, type DataService, type DataStep, type Services } from '../services/index.js';
import { dumpExtension, timeStamp } from '../shared/dump-formats.js';
import { errorText, isPaasmakerError, PaasmakerError } from '../shared/errors.js';
import { ownerAlive, type Owner } from '../shared/owner.js';
import { processStartTime } from '../shared/process-start.js';
import { byteSize } from '../shared/usage-text.js';
import type { SnapshotRow } from '../shared/views.js';
import type { State } from '../state/index.js';
import { withAppStopped, type AppPauseParts } from './app-pause.js';
import type { Job, Jobs } from './jobs.js';
import { ensureSnapshotsOf, hasSnapshot, listSnapshots, readSnapshot, removeSnapshot, snapshotDir, snapshotsOf, writeSnapshot, type SnapshotRecord } from './snapshots.js';

export interface DataToolsParts extends AppPauseParts {
  /** PAASMAKER_HOME */
  home: string;
  jobs: Jobs;
  services: Services;
  /** The jobs' records: whose a leftover file's job was. */
  state: State;
  owner: Owner;
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

/** A job at work on an app's data, and its abort as the steps it runs see it. */
interface DataJob {
  job: Job;
  signal: AbortSignal;
}

/** Throws once the job was aborted: between the steps of a data job, before anything more changes. */
function throwIfAborted(work: DataJob, what: string): void {
  if (!work.signal.aborted) return;
  const reason: unknown = work.signal.reason;
  throw new PaasmakerError('SERVICE_FAILED', `${reason instanceof Error ? reason.message : `${work.job.title} was aborted`} ${what}`, { hint: `paasmaker jobs show ${work.job.id} has its log` });
}

/** The prefix of a snapshot folder being made: .<name>.partial-<job>. */
const PARTIAL_SNAPSHOT = '.partial-';

/**
 * An app's data, as jobs: a dump of one service, a restore into one (the
 * app's processes stopped for the while), and snapshots of every service
 * that keeps data, kept under PAASMAKER_HOME/snapshots/<app>/<name>/.
 * One such job runs on an app at a time: another is refused (APP_BUSY)
 * while it runs.
 */
export class DataTools {
  /** The job working on each app's data. */
  private readonly busy = new Map<string, { job: string; title: string }>();

  constructor(private readonly parts: DataToolsParts) {}

  /** The job working on the app's data now, if any (a restore, a dump, a snapshot). */
  busyWith(app: string): { job: string; title: string } | undefined {
    return this.busy.get(app);
  }

  /** APP_BUSY while a restore of the app runs (its processes are stopped for it, and started by it after): for what would start or stop them meanwhile. */
  refuseWhileRestoring(app: string): void {
    if (/^(snapshot )?restore /.test(this.busy.get(app)?.title ?? '')) this.checkIdle(app);
  }

  /** APP_BUSY when a data job of the app runs, naming it. */
  private checkIdle(app: string): void {
    const holder = this.busy.get(app);
    if (!holder) return;
    throw new PaasmakerError('APP_BUSY', `${app}'s data is being worked on: job ${holder.job} "${holder.title}" is running`, {
      hint: `one dump, restore or snapshot of an app at a time: wait for it to end (paasmaker jobs show ${holder.job}), or stop it (paasmaker jobs abort ${holder.job})`,
    });
  }

  /**
   * Runs fn as the app's data job `title`, the app's only one while it runs;
   * its abort is one signal from the job's start, which every step sees.
   */
  private async exclusive<T>(app: string, title: string, onJob: ((id: string) => void) | undefined, fn: (work: DataJob) => Promise<T>): Promise<T> {
    this.checkIdle(app);
    const holder = { job: '', title };
    this.busy.set(app, holder);
    try {
      return await this.parts.jobs.run(app, title, (job) => {
        holder.job = job.id;
        onJob?.(job.id);
        return fn(this.watch(job));
      });
    } finally {
      this.busy.delete(app);
    }
  }

  /** A job's abort as a signal, made as the job starts; a step's job is aborted with its parent's too. */
  private watch(job: Job, parent?: AbortSignal): DataJob {
    const controller = new AbortController();
    // The reason is what a step stopped by it throws (a plugin's, a backup's).
    job.onAbort(() => controller.abort(new PaasmakerError('SERVICE_FAILED', `${job.title} was aborted`, { hint: `paasmaker jobs show ${job.id} has its log` })));
    if (parent?.aborted) controller.abort(parent.reason);
    else parent?.addEventListener('abort', () => controller.abort(parent.reason), { once: true });
    return { job, signal: controller.signal };
  }

  /** The job's log and its abort, as a plugin's dump or restore sees them. */
  private step(work: DataJob): DataStep {
    return { say: (line) => work.job.log(line), signal: work.signal };
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
    const app = manifest.application.name;
    const chosen = this.choose(manifest, service);
    return this.exclusive(app, `dump ${chosen.service}`, onJob, (work) => this.dumpIn(work, manifest, chosen.service, file));
  }

  /** The work of a dump job (see dump()), in a job already running. */
  private async dumpIn(work: DataJob, manifest: ResolvedManifest, service: string, file: string | ((job: string, format: string) => string)): Promise<DumpMade> {
    const { services } = this.parts;
    const { job } = work;
    const target = await services.dataService(manifest, service);
    throwIfAborted(work, 'before the dump began');
    const path = typeof file === 'string' ? file : file(job.id, target.format);
    try {
      await services.dump(target, path, this.step(work));
      throwIfAborted(work, 'as the dump ended');
    } catch (error) {
      rmSync(path, { force: true });
      throw error;
    }
    const size = statSync(path).size;
    job.detail = `${service} (${target.plugin}): ${byteSize(size)}`;
    return { job: job.id, service, plugin: target.plugin, format: target.format, file: path, size };
  }

  /** A step of a data job, as a job of its own under it (aborted with it). */
  private stepJob<T>(parent: DataJob, title: string, fn: (work: DataJob) => Promise<T>): Promise<T> {
    return this.parts.jobs.run(parent.job.app, title, (job) => fn(this.watch(job, parent.signal)));
  }

  /**
   * Replaces one service's data with a dump, as the job "restore SERVICE":
   * a file of the wrong kind is refused before anything stops; the app's
   * processes are stopped while the plugin swaps the data in, then started.
   * Aborted before the app stops, nothing changes.
   */
  restore(manifest: ResolvedManifest, service: string | undefined, file: string, onJob?: (id: string) => void): Promise<string> {
    const { services } = this.parts;
    const app = manifest.application.name;
    const chosen = this.choose(manifest, service);
    return this.exclusive(app, `restore ${chosen.service}`, onJob, async (work) => {
      await checkDumpKind(file, { format: chosen.format, request: { service: chosen.service } });
      const target = await services.dataService(manifest, chosen.service);
      throwIfAborted(work, `before ${app}'s processes were stopped: nothing was changed`);
      await withAppStopped(this.parts, app, (line) => work.job.log(line), async () => {
        throwIfAborted(work, `while ${app}'s processes stopped: nothing was changed`);
        await services.restore(target, file, this.step(work));
      });
      work.job.detail = `restored ${chosen.service} (${target.plugin}) from ${basename(file)}`;
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
    const { home, services } = this.parts;
    const app = manifest.application.name;
    const snapshot = name ?? timeStamp();
    if (hasSnapshot(home, app, snapshot)) throw new PaasmakerError('ALREADY_EXISTS', `${app} has a snapshot "${snapshot}" already`, { hint: `choose another name, or remove it first: paasmaker db snapshot rm ${snapshot}` });
    if (services.dataServiceNames(manifest).length === 0) this.choose(manifest); // says why none can be
    return this.exclusive(app, `snapshot ${snapshot}`, onJob, (work) => this.snapshotIn(work, manifest, snapshot));
  }

  /** The work of a snapshot job (see snapshot()), in a job already running. */
  private async snapshotIn(work: DataJob, manifest: ResolvedManifest, snapshot: string): Promise<SnapshotRow> {
    const { home, services } = this.parts;
    const app = manifest.application.name;
    const dir = snapshotDir(home, app, snapshot);
    const names = services.dataServiceNames(manifest);
    const time = new Date().toISOString();
    // Named after its job: a platform that starts after this one died removes it (reapLeftovers).
    const partial = join(ensureSnapshotsOf(home, app), `.${snapshot}${PARTIAL_SNAPSHOT}${work.job.id}`);
    mkdirSync(partial, { mode: 0o700 });
    try {
      const record: SnapshotRecord = { app, name: snapshot, time, services: [] };
      for (const service of names) {
        throwIfAborted(work, `before ${service} was dumped`);
        const made = await this.stepJob(work, `dump ${service}`, (step) => this.dumpIn(step, manifest, service, (_job, format) => join(partial, `${service}${dumpExtension(format)}`)));
        record.services.push({ service, plugin: made.plugin, format: made.format, file: basename(made.file), size: made.size });
      }
      throwIfAborted(work, 'before the snapshot was kept');
      writeSnapshot(partial, record);
      if (existsSync(dir)) throw new PaasmakerError('ALREADY_EXISTS', `${app} has a snapshot "${snapshot}" already`, { hint: 'another one of that name was taken meanwhile' });
      renameSync(partial, dir);
      const total = record.services.reduce((sum, each) => sum + each.size, 0);
      work.job.detail = `${names.join(', ')}: ${byteSize(total)}`;
      return { app, name: snapshot, time, size: total, services: names };
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  }

  /** The app's snapshots, oldest first. */
  snapshots(app: string): SnapshotRow[] {
    return listSnapshots(this.parts.home, app);
  }

  /**
   * Puts every service of a snapshot back, as the job "snapshot restore
   * NAME": each dump is checked first (its service and kind, and whole where
   * that is cheap); then the services' data as it is is kept as the snapshot
   * pre-restore-<time>, the app's processes are stopped once for all the
   * services, and started after. A service that fails stops the restore:
   * the error names those already restored and how to go back.
   */
  restoreSnapshot(manifest: ResolvedManifest, name: string, onJob?: (id: string) => void): Promise<SnapshotRecord> {
    const { home, services } = this.parts;
    const app = manifest.application.name;
    const record = readSnapshot(home, app, name);
    const dir = snapshotDir(home, app, name);
    const chosen = record.services.map((each) => ({ ...this.choose(manifest, each.service), file: join(dir, each.file) }));
    return this.exclusive(app, `snapshot restore ${name}`, onJob, async (work) => {
      const { job } = work;
      const targets: Array<(typeof chosen)[number] & { target: DataService }> = [];
      for (const each of chosen) targets.push({ ...each, target: await services.dataService(manifest, each.service) });
      for (const each of targets) {
        throwIfAborted(work, 'while its dumps were checked: nothing was changed');
        job.log(`checking ${each.service}'s dump ${basename(each.file)}`);
        await services.check(each.target, each.file, this.step(work));
      }
      throwIfAborted(work, 'before the data as it is was kept: nothing was changed');
      const before = await this.stepJob(work, 'snapshot of the data as it is', (step) => this.snapshotIn(step, manifest, this.preRestoreName(app)));
      const back = `paasmaker db snapshot restore ${before.name} --yes`;
      job.log(`the data as it was before this restore is kept as the snapshot ${before.name} (${back} goes back to it)`);
      const restored: string[] = [];
      try {
        await withAppStopped(this.parts, app, (line) => job.log(line), async () => {
          for (const each of targets) {
            throwIfAborted(work, `before ${each.service} was restored`);
            await this.stepJob(work, `restore ${each.service}`, (step) => services.restore(each.target, each.file, this.step(step)));
            restored.push(each.service);
          }
        });
      } catch (error) {
        if (restored.length === 0) {
          // Nothing was replaced: the copy of the data as it is has no use.
          removeSnapshot(home, app, before.name);
          throw error;
        }
        const rest = targets.map((each) => each.service).filter((service) => !restored.includes(service));
        throw new PaasmakerError(isPaasmakerError(error) ? error.code : 'SERVICE_FAILED', `snapshot restore ${name} stopped part-way: ${restored.join(', ')} ${restored.length === 1 ? 'was' : 'were'} restored from ${name}, ${rest.join(', ')} not: ${errorText(error)}`, {
          // In the detail too: a job's failure is told by its message and detail.
          detail: `the data from before the restore is the snapshot ${before.name}: ${back} puts it all back`,
          hint: `${back} puts back the data from before the restore`,
          cause: error,
        });
      }
      job.detail = `${chosen.map((each) => each.service).join(', ')} as of ${record.time} (before: ${before.name})`;
      return record;
    });
  }

  /** A name for the snapshot a snapshot restore takes first: pre-restore-<UTC time>, unused. */
  private preRestoreName(app: string): string {
    const base = `pre-restore-${timeStamp()}`;
    let name = base;
    for (let n = 2; hasSnapshot(this.parts.home, app, name); n++) name = `${base}-${n}`;
    return name;
  }

  /** Deletes a snapshot and its dumps (its record readable or not); not while a data job of the app runs. */
  removeSnapshot(app: string, name: string): void {
    this.checkIdle(app);
    removeSnapshot(this.parts.home, app, name);
  }

  /**
   * Removes what data jobs of platforms that died left behind: restore
   * uploads under tmp/, snapshots being made, dumps for the API being made
   * or sent. Those of a live platform (and of this process) are left alone.
   */
  reapLeftovers(): void {
    const { home, state, owner } = this.parts;
    const jobDead = (id: string) => {
      const record = state.jobs.get(id);
      return !record || (record.ownerPid !== owner.pid && !ownerAlive(record.ownerPid, record.ownerStart));
    };
    const remove = (path: string) => rmSync(path, { recursive: true, force: true });
    const tmp = join(home, 'tmp');
    for (const name of existsSync(tmp) ? readdirSync(tmp) : []) {
      const pid = /^(?:restore|upload)-(\d+)-/.exec(name)?.[1];
      if (pid && Number(pid) !== process.pid && processStartTime(Number(pid)) === undefined) remove(join(tmp, name));
    }
    const snapshots = join(home, 'snapshots');
    for (const app of existsSync(snapshots) ? readdirSync(snapshots) : []) {
      const dir = snapshotsOf(home, app);
      for (const name of readdirSync(dir)) {
        const at = name.lastIndexOf(PARTIAL_SNAPSHOT);
        if (name.startsWith('.') && at > 0 && jobDead(name.slice(at + PARTIAL_SNAPSHOT.length))) remove(join(dir, name));
      }
    }
    const dumps = join(home, 'dumps');
    for (const app of existsSync(dumps) ? readdirSync(dumps) : []) {
      for (const name of readdirSync(join(dumps, app))) {
        // .<job>.<service><ext>.partial (being made), <job>.<service><ext>.sending-<hex> (being downloaded)
        const job = name.endsWith('.partial') ? name.slice(1).split('.')[0] : name.includes('.sending-') ? name.split('.')[0] : undefined;
        if (job && jobDead(job)) remove(join(dumps, app, name));
      }
    }
  }

  /** The folder a restore's upload is kept in until its job ends: tmp/restore-<pid>-<random>, removed by reapLeftovers once this process is gone. */
  uploadDir(): string {
    const dir = join(this.parts.home, 'tmp', `restore-${process.pid}-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }
}

