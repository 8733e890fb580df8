import { callApi, followEvents, type DeployResult, type JobRow } from '../api/index.js';
import type { JobLogEvent, JobUpdateEvent } from '../engine/events.js';
import { colorEnabled, painter, type Paint } from './output.js';
import { primaryUrl } from '../shared/app-urls.js';

/**
 * What `paasmaker deploy` and the git hook (`paasmaker git receive`) show
 * while a deploy runs: its job tree, from the event stream, each step as it
 * starts and ends and the lines it logs. The stream is open before the
 * deploy is asked for; the deploy's root is the first root job titled
 * "deploy APP" that appears then (any app's, when the app is not known yet:
 * it may be named by the manifest of the source).
 */
export interface DeployStream {
  /**
   * Stops following once the deploy answered: the states of its jobs the
   * stream had not told yet (the answer and the stream's last events travel
   * apart) are read from the job tree and shown first.
   */
  close(job?: string): Promise<void>;
  /** The deploy's root job, once seen. */
  readonly root: string | undefined;
  /** Whether the stream told this job's end (every line it logged came before). */
  ended(job: string): boolean;
  /** With `later`: the tree to show is the one of this job (its id from the answer that started it); what the stream told before is shown first. */
  adopt(job: string): void;
}

const STATE_COLORS = { success: 'green', failed: 'red', aborted: 'red' } as const;
const FINISHED = new Set(['success', 'failed', 'aborted']);

/** What a job tree's printer is told: each job's updates and log lines; `root` once its top was seen. */
export interface JobTreePrinter {
  update(event: JobUpdateEvent): void;
  log(event: JobLogEvent): void;
  /** A job's update as read back from its tree: `asRoot` when it may be the top (see followDeploy's close). */
  track(event: JobUpdateEvent, asRoot: boolean): void;
  readonly root: string | undefined;
  ended(job: string): boolean;
}

/**
 * Prints one job tree to `out` as it runs: each step once as it starts and
 * once as it ends, and the lines it logs; the tree's top is the first root
 * job `isRoot` takes.
 */
export function jobTreePrinter(out: NodeJS.WriteStream, isRoot: (event: JobUpdateEvent) => boolean): JobTreePrinter {
  const paint = painter(colorEnabled(out));
  const tree = new Map<string, { title: string; depth: number; told: 'nothing' | 'start' | 'end' }>();
  let root: string | undefined;
  const track = (event: JobUpdateEvent, asRoot: boolean) => {
    let job = tree.get(event.id);
    if (!job) {
      const parent = event.parent === undefined ? undefined : tree.get(event.parent);
      if (!parent && !asRoot) return;
      if (!parent) root = event.id;
      job = { title: event.title, depth: parent ? parent.depth + 1 : 0, told: 'nothing' };
      tree.set(event.id, job);
    }
    job.title = event.title;
    // Each step once as it starts (new, waiting and running are all its start), once as it ends.
    const ended = FINISHED.has(event.state);
    if (job.told === 'end' || (!ended && job.told === 'start')) return;
    job.told = ended ? 'end' : 'start';
    out.write(stepLine(paint, job, event));
  };
  return {
    update: (event) => track(event, root === undefined && event.parent === undefined && isRoot(event)),
    log: (event) => {
      const job = tree.get(event.id);
      if (!job) return;
      const indent = '  '.repeat(job.depth + 1);
      // A line that holds several (an error with its process's last lines) gets the prefix on each.
      for (const line of event.line.replace(/\n+$/, '').split('\n')) out.write(`${indent}${paint('gray', `${job.title} |`)} ${event.stream === 'err' ? paint('yellow', line) : line}\n`);
    },
    track,
    get root() {
      return root;
    },
    ended: (id) => tree.get(id)?.told === 'end',
  };
}

/**
 * Follows the deploy of `app` (undefined: any app's) on a platform, writing
 * to `out`; resolves once the stream is open. `isRoot` picks another kind of
 * job tree than a deploy's; `later`: the tree of the job adopt() names,
 * the stream's events kept until then.
 */
export function followDeploy(socket: string, options: { app?: string; out?: NodeJS.WriteStream; isRoot?: (event: JobUpdateEvent) => boolean; later?: boolean }): Promise<DeployStream> {
  const out = options.out ?? process.stdout;
  // The root is made before the manifest is read: titled by its source ("deploy /src/shop"), renamed once the app is known ("deploy shop v3").
  const isDeploy = (event: JobUpdateEvent) => event.title.startsWith('deploy ') && (options.app === undefined || event.app === options.app);
  let adopted: string | undefined;
  const printer = jobTreePrinter(out, options.later ? (event) => event.id === adopted : (options.isRoot ?? isDeploy));
  const track = printer.track;
  // Until adopt(): every event kept, to be shown once the job is known.
  let kept: Array<{ update?: JobUpdateEvent; log?: JobLogEvent }> | undefined = options.later ? [] : undefined;
  const onUpdate = (event: JobUpdateEvent) => (kept ? kept.push({ update: event }) : printer.update(event));
  const onLog = (event: JobLogEvent) => (kept ? kept.push({ log: event }) : printer.log(event));
  const adopt = (job: string) => {
    if (adopted !== undefined) return;
    adopted = job;
    const told = kept ?? [];
    kept = undefined;
    for (const each of told) {
      if (each.update) printer.update(each.update);
      else printer.log(each.log!);
    }
  };
  return new Promise((resolve) => {
    const stream = followEvents(
      socket,
      {
        // The app is not always known before the deploy reads its manifest: then every app's events, the deploy's picked out.
        app: options.app,
        onOpen: () => resolve(handle),
      },
      (event, payload) => {
        if (event === 'job.update') onUpdate(payload);
        else if (event === 'job.log') onLog(payload);
      },
      // A stream that could not open leaves the deploy's answer to say what happened.
      () => resolve(handle),
    );
    const handle: DeployStream = {
      close: async (job) => {
        stream.destroy();
        if (job !== undefined && options.later) adopt(job);
        const id = job ?? printer.root;
        if (id === undefined) return;
        const jobs = await callApi<JobRow[]>(socket, 'GET', `/api/v1/jobs/${encodeURIComponent(id)}`, undefined, 5000).catch(() => [] as JobRow[]);
        // What the stream did not tell, in the tree's order: a step's end after its own steps' ends.
        const children = new Map<string | null, JobRow[]>();
        for (const each of jobs) children.set(each.parent, [...(children.get(each.parent) ?? []), each]);
        const visit = (each: JobRow) => {
          const update: JobUpdateEvent = { id: each.id, parent: each.parent ?? undefined, app: each.app, title: each.title, state: each.state, detail: each.detail ?? undefined };
          track({ ...update, state: 'running', detail: undefined }, each.parent === null && (printer.root === undefined || printer.root === each.id));
          for (const child of children.get(each.id) ?? []) visit(child);
          track(update, false);
        };
        for (const top of children.get(null) ?? []) visit(top);
      },
      get root() {
        return printer.root;
      },
      ended: (id) => printer.ended(id),
      adopt,
    };
  });
}

/** A step starting ("prepare web…") or ending ("prepare web: done", "start v3 failed: …"). */
function stepLine(paint: Paint, job: { title: string; depth: number }, event: JobUpdateEvent): string {
  const indent = '  '.repeat(job.depth);
  const title = job.depth === 0 ? paint('bold', job.title) : job.title;
  if (event.state === 'running' || event.state === 'waiting' || event.state === 'new') return `${indent}${title}…${event.detail ? ` ${paint('gray', `(${event.detail})`)}` : ''}\n`;
  const color = STATE_COLORS[event.state as keyof typeof STATE_COLORS] ?? 'gray';
  const said = event.state === 'success' ? (event.detail ?? 'done') : `${event.state}${event.detail && !event.detail.includes('\n') ? `: ${event.detail}` : ''}`;
  return `${indent}${title}: ${paint(color, said)}\n`;
}

/** The last line of a deploy that answered: which version, whether it is current, and where it answers. */
export function deployedLine(result: DeployResult): string {
  const { version } = result;
  const name = `${version.app} v${version.version}`;
  // https while the router listens with TLS, else http.
  const own = primaryUrl(version) ?? undefined;
  const main = own?.replace(`//v${version.version}.`, '//');
  if (!result.switched) return `${name} is ready, not current${own ? `: ${own}` : ''} (paasmaker switch ${version.app} ${version.version} makes it current)\n`;
  if (!version.serving) return `${name} is current; a development up of ${version.app} holds ${main ?? `${version.app}.localhost`} while it runs${own ? `: ${own}` : ''}\n`;
  return `${name} is current${main ? `: ${main}` : ''}${own ? ` (also ${own})` : ''}\n`;
}
