import type { Server } from 'node:http';
import type { FSWatcher } from 'chokidar';
import type { RuntimePlan } from '../../runtimes/index.js';
import type { ResolvedManifest } from '../manifest/index.js';
import type { CronScheduler } from './crons.js';
import { runId } from './events.js';
import type { ProjectWatcher } from './watcher.js';

/** An app this platform runs: its manifest, plans, processes and helpers. */
export interface RunningApp {
  manifest: ResolvedManifest;
  /** The deployed version it runs (paasmaker deploy); undefined for a development up of a folder. */
  version?: number;
  plans: Map<string, RuntimePlan>;
  keys: string[];
  staticServers: Server[];
  /** The services' credentials, as environment variables. */
  serviceEnv: Record<string, string>;
  /** The last generation started: a reload's processes are "web.0@<generation>". */
  generation: number;
  /** Slot ("web.0") → the key of the process serving it now. */
  slots: Map<string, string>;
  watcher?: ProjectWatcher;
  /** Watches $PAASMAKER_HOME/config.yml, which names the services. */
  configWatcher?: FSWatcher;
  crons?: CronScheduler;
  /** The reload running now, and whether another save asked for one meanwhile. */
  reloading?: Promise<boolean>;
  reloadQueued?: Promise<boolean>;
  /** The running reload's successors while they start: a newer change stops them, and the queued reload takes over. */
  starting?: ReloadStart;
}

/** A reload while its successors start: what it replaces and why, whether a newer change stopped it, the processes to stop then. */
export interface ReloadStart {
  instances: ReadonlySet<string>;
  reason: string | undefined;
  superseded: boolean;
  /** The successors starting now (none once they serve). */
  keys: string[];
}

/** The run's id: its processes are "<run>/web.0" (see runId). */
export const runOf = (app: Pick<RunningApp, 'manifest' | 'version'>): string => runId(app.manifest.application.name, app.version);
