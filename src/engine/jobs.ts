import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLogLine } from '../shared/tail.js';
import type { JobLogLine } from '../shared/views.js';
import { errorText, PaasmakerError } from '../shared/errors.js';
import type { DiskSpace } from '../shared/disk-space.js';
import type { Owner } from '../shared/owner.js';
import type { State } from '../state/index.js';
import type { JobLogEvent, JobState, JobUpdateEvent } from './events.js';
import { LogFile } from '../supervisor/index.js';

/** One job: a step of something the platform does, with a log and children. */
export class Job {
  state: JobState = 'new';
  detail: string | undefined;
  private aborter: (() => void) | undefined;

  constructor(
    readonly id: string,
    public app: string,
    public title: string,
    readonly parent: string | undefined,
    /** The top of its tree: the parent's root, or itself. */
    readonly root: string,
    private readonly jobs: Jobs,
  ) {}

  /** A line of the job's own log (PAASMAKER_HOME/logs/jobs/<id>.log). */
  log(line: string, stream: 'out' | 'err' | 'system' = 'system'): void {
    this.jobs.appendLog(this, stream, line);
  }

  /** What abort() does for this job (stop a command it runs); without one it is only marked. */
  onAbort(handler: () => void): void {
    this.aborter = handler;
  }

  abort(reason: string): void {
    if (this.finished) return;
    this.aborter?.();
    this.jobs.transition(this, 'aborted', reason);
  }

  get finished(): boolean {
    return this.state === 'success' || this.state === 'failed' || this.state === 'aborted';
  }
}

/**
 * Every action the platform takes is a job tree, as in the original
 * Paasmaker: `up` has children for services, each prepare and each start.
 * A job started inside another (through run()) becomes its child without
 * being passed around. States go to state.db; logs to a file per job.
 */
export class Jobs {
  private readonly context = new AsyncLocalStorage<Job>();
  private readonly live = new Map<string, Job>();
  /** Jobs that ended while the disk was full: their last state is written once there is room. */
  private readonly unsaved = new Map<string, Job>();
  private readonly logs = new Map<string, LogFile>();
  private readonly logDir: string;

  constructor(
    private readonly state: State,
    private readonly owner: Owner,
    logsRoot: string,
    private readonly emit: (event: JobUpdateEvent) => void,
    private readonly space?: DiskSpace,
    /** Each line of a job's own log as it is written, for the faces that show it live. */
    private readonly emitLine?: (event: JobLogEvent) => void,
  ) {
    this.logDir = join(logsRoot, 'jobs');
  }

  /** The lines of a job's own log (not its steps'), oldest first. */
  logLines(id: string): JobLogLine[] {
    const file = join(this.logDir, `${id}.log`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((raw) => {
        const { time, stream, text } = parseLogLine(raw);
        return { time, stream, line: text };
      });
  }

  /** The job the caller runs inside, if any. */
  current(): Job | undefined {
    return this.context.getStore();
  }

  /**
   * Runs fn as a job (a child of the current one): RUNNING, then SUCCESS with
   * fn's result, or FAILED with its error (rethrown). fn may finish the job
   * itself (job.detail, or a success with a note such as "up to date").
   */
  async run<T>(app: string, title: string, fn: (job: Job) => Promise<T>, options: { detail?: string; waitFor?: () => Promise<unknown>; root?: boolean } = {}): Promise<T> {
    // root: a job of its own even when called from inside another's work (a timer it armed, say).
    const job = options.root ? this.context.exit(() => this.create(app, title)) : this.create(app, title);
    try {
      if (options.waitFor) {
        // WAITING: for what must come first (the instance types it depends on).
        this.transition(job, 'waiting', options.detail);
        await options.waitFor(); // outside this job: what it waits for belongs to the parent
        // Aborted while it waited: it stays aborted, and its work is not done.
        if (job.finished) throw new PaasmakerError('JOB_ABORTED', `${title} was aborted before it ran: ${job.detail ?? 'aborted'}`, { hint: `paasmaker jobs show ${job.id} has its log` });
      }
      this.transition(job, 'running', options.detail);
      job.detail = undefined; // the reason it runs is told once; what fn sets is the outcome's note
      const result = await this.context.run(job, () => fn(job));
      if (!job.finished) this.transition(job, 'success', job.detail);
      return result;
    } catch (error) {
      if (!job.finished) this.transition(job, 'failed', errorText(error));
      throw error;
    } finally {
      this.ended(job);
    }
  }

  /** A job that is already over (e.g. a scale that took no time), recorded for the history. */
  record(app: string, title: string, state: 'success' | 'failed', detail?: string): void {
    const job = this.create(app, title);
    this.transition(job, state, detail);
    this.ended(job);
  }

  /**
   * With no job left running, nothing can ask which job it runs inside, so the
   * context is switched off until the next run() switches it on: on Node 20 an
   * enabled AsyncLocalStorage hooks every callback and promise of the process
   * (the router's socket writes included), about 5 % of an idle-looking `up`'s
   * CPU under a log flood. Work a finished job left behind (a timer it armed)
   * starts root jobs, not children of the job that is over.
   */
  private ended(job: Job): void {
    this.live.delete(job.id);
    if (this.live.size === 0) this.context.disable();
  }

  private create(app: string, title: string): Job {
    const parent = this.current();
    const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const job = new Job(id, app, title, parent?.id, parent?.root ?? id, this);
    this.live.set(id, job);
    this.state.jobs.create({ id, parent: parent?.id ?? null, root: job.root, app, title, ownerPid: this.owner.pid, ownerStart: this.owner.startTime });
    this.emit({ id, parent: parent?.id, app, title, state: 'new' });
    return job;
  }

  /** Gives a running job its app and title once it knows them (a deploy, once its code names the app). */
  rename(job: Job, app: string, title: string): void {
    job.app = app;
    job.title = title;
    this.state.jobs.rename(job.id, app, title);
    this.emit({ id: job.id, parent: job.parent, app, title, state: job.state, detail: job.detail });
  }

  transition(job: Job, state: JobState, detail?: string): void {
    job.state = state;
    job.detail = detail;
    this.state.jobs.setState(job.id, state, detail ?? null);
    if (job.finished && this.space?.degraded) this.unsaved.set(job.id, job);
    if (detail && state !== 'running') job.log(detail, state === 'success' ? 'system' : 'err');
    if (job.finished) {
      void this.logs.get(job.id)?.close();
      this.logs.delete(job.id);
    }
    this.emit({ id: job.id, parent: job.parent, app: job.app, title: job.title, state, detail });
  }

  /** The same files as a process's log (`<ISO time> <out|err|sys> <line>`), written through one stream per job. */
  appendLog(job: Job, stream: 'out' | 'err' | 'system', line: string): void {
    let log = this.logs.get(job.id);
    if (!log) this.logs.set(job.id, (log = new LogFile(join(this.logDir, `${job.id}.log`), { space: this.space })));
    const at = Date.now();
    const short = stream === 'system' ? 'sys' : stream;
    log.write(short, line, at);
    this.emitLine?.({ id: job.id, app: job.app, time: new Date(at).toISOString(), stream: short, line });
  }

  /** Writes the records of running jobs and of jobs that ended while the disk was full again (after it dropped them). */
  rewrite(): void {
    const jobs = new Map([...this.unsaved, ...this.live]);
    this.unsaved.clear();
    // Parents first: a tree is read in the order its jobs were recorded.
    const depth = (job: Job): number => (job.parent && jobs.has(job.parent) ? depth(jobs.get(job.parent)!) + 1 : 0);
    for (const job of [...jobs.values()].sort((a, b) => depth(a) - depth(b))) {
      if (!this.state.jobs.get(job.id)) this.state.jobs.create({ id: job.id, parent: job.parent ?? null, root: job.root, app: job.app, title: job.title, ownerPid: this.owner.pid, ownerStart: this.owner.startTime });
      this.state.jobs.setState(job.id, job.state, job.detail ?? null);
    }
  }

  /** Aborts a running job of this platform and its running children. */
  abort(id: string, reason: string): boolean {
    const job = this.live.get(id);
    if (!job) return false;
    for (const child of this.live.values()) if (child.parent === id) this.abort(child.id, reason);
    job.abort(reason);
    return true;
  }
}
