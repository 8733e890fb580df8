import type { RequestRecord, TrafficSample } from '../proxy/index.js';
import type { ProcessState } from '../supervisor/index.js';
import type { WarningRow } from '../shared/views.js';
import type { MailReceivedEvent } from '../services/types.js';

export type { MailReceivedEvent } from '../services/types.js';

export interface InstanceStateEvent {
  app: string;
  instance: string;
  index: number;
  state: ProcessState;
  previous: ProcessState;
  pid?: number;
  port?: number;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null };
  nextRestartAt?: number;
}

export interface LogLineEvent {
  app: string;
  /** "web.0" for an instance process, "web:prepare" for its prepare step, "paasmaker" for the platform. */
  source: string;
  stream: 'out' | 'err' | 'system';
  line: string;
  time: number;
}

/** NEW → WAITING → RUNNING → SUCCESS | FAILED | ABORTED, as the original Paasmaker's jobs. */
export type JobState = 'new' | 'waiting' | 'running' | 'success' | 'failed' | 'aborted';

export interface JobUpdateEvent {
  id: string;
  /** The job this one is a step of. */
  parent?: string;
  app: string;
  /** e.g. "prepare web". */
  title: string;
  state: JobState;
  detail?: string;
}

export interface TrafficTickEvent {
  /** Epoch seconds of the tick. */
  at: number;
  /** Per app instance type, only those that saw requests. */
  samples: TrafficSample[];
}

/** CPU and memory of one process (its whole process group) in a sample round. */
export interface ProcessSample {
  instance: string;
  index: number;
  pid: number;
  /** Percent of one core since the previous round, one decimal; null on a process's first round. */
  cpu: number | null;
  /** Resident memory, bytes. */
  memory: number;
}

/** One app's processes, sampled every ~2 s (where /proc exists). */
export interface ProcessStatsEvent {
  app: string;
  /** Epoch ms of the round. */
  at: number;
  samples: ProcessSample[];
}

/** An app was deployed (an up or apply started it) or reloaded (a restart, a reload on save): its times as the app row gives them. */
export interface AppDeployedEvent {
  app: string;
  kind: 'deploy' | 'reload';
  /** ISO times. */
  deployedAt: string | null;
  reloadedAt: string | null;
}

/** Requests the router recorded for one app since the last such event (a batch every 250 ms at most, oldest first). */
export interface RequestRecordedEvent {
  app: string;
  requests: RequestRecord[];
}

/** A line of a job's own log, as it is written (GET /api/v1/jobs/{id}/log gives the lines before). */
export interface JobLogEvent {
  id: string;
  app: string;
  time: string;
  stream: 'out' | 'err' | 'sys';
  line: string;
}

/** An app's versions changed (one made, its state changed, a switch, a prune): a face reads GET /api/v1/apps/{app}/versions again. */
export interface VersionChangedEvent {
  app: string;
  /** The version that changed, when one did. */
  version: number | null;
  /** The app's current version after the change. */
  current: number | null;
}

export interface PlatformEvents {
  'instance.state': [event: InstanceStateEvent];
  'log.line': [event: LogLineEvent];
  'job.update': [event: JobUpdateEvent];
  'job.log': [event: JobLogEvent];
  'traffic.tick': [event: TrafficTickEvent];
  'process.stats': [event: ProcessStatsEvent];
  'app.deployed': [event: AppDeployedEvent];
  /** Something the platform could not do as asked (the DNS port taken, a router error), as GET /api/v1/warnings lists it. */
  'platform.warning': [event: WarningRow];
  'request.recorded': [event: RequestRecordedEvent];
  'version.changed': [event: VersionChangedEvent];
  /** The mail catcher took a message from an app (GET /api/v1/apps/{app}/mail/{id} reads it). */
  'mail.received': [event: MailReceivedEvent];
}

/**
 * "shop/web.0" ↔ {app, instance, index}. A reload starts the slot's next
 * process beside the current one as "shop/web.0@2" (generation 2).
 */
/** A run of an app: "shop" for a development up of its folder, "shop@v3" for its deployed version 3. */
export function runId(app: string, version?: number): string {
  return version === undefined ? app : `${app}@v${version}`;
}

/** The processes of a run: "shop/web.0", "shop@v3/web.0", a reload's "shop/web.0@2". */
export function processKey(run: string, instance: string, index: number, generation = 0): string {
  return generation > 0 ? `${run}/${instance}.${index}@${generation}` : `${run}/${instance}.${index}`;
}

export function parseProcessKey(key: string): { app: string; version?: number; run: string; instance: string; index: number; generation: number } | undefined {
  // A checkout's app is "shop@feature-x" (its label never looks like v<N>): "shop@feature-x/web.0".
  const match = /^([^/@]+(?:@(?!v\d+[/@])[a-z0-9-]+)?)(?:@v(\d+))?\/(.+)\.(\d+)(?:@(\d+))?$/.exec(key);
  if (!match) return undefined;
  const version = match[2] === undefined ? undefined : Number(match[2]);
  return { app: match[1]!, version, run: runId(match[1]!, version), instance: match[3]!, index: Number(match[4]), generation: Number(match[5] ?? 0) };
}

/** Every event's name, once (the record makes the compiler check the list is whole). */
const EVENT_NAME_SET: Record<keyof PlatformEvents, true> = {
  'instance.state': true,
  'log.line': true,
  'job.update': true,
  'job.log': true,
  'traffic.tick': true,
  'process.stats': true,
  'app.deployed': true,
  'platform.warning': true,
  'request.recorded': true,
  'version.changed': true,
  'mail.received': true,
};
export const EVENT_NAMES = Object.keys(EVENT_NAME_SET) as ReadonlyArray<keyof PlatformEvents>;
export const isEventName = (name: string): name is keyof PlatformEvents => Object.hasOwn(EVENT_NAME_SET, name);

/** An event's name and payload, as a listener of every event (the API's event stream) gets them: the name narrows the payload. */
export type PlatformEventArgs = { [E in keyof PlatformEvents]: [event: E, ...payload: PlatformEvents[E]] }[keyof PlatformEvents];

/** Where the platform's parts report what happens: the platform's own emitter. */
export interface EventSink {
  emit<E extends keyof PlatformEvents>(event: E, ...payload: PlatformEvents[E]): boolean;
}
