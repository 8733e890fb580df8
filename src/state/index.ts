import type { DiskSpace } from '../shared/disk-space.js';
import { dropWritesWhenFull, openDatabase, openReadOnlyDatabase, type Db } from './database.js';
import {
  AppsRepository,
  InstancesRepository,
  JournalRepository,
  PrepareRunsRepository,
  ProcessesRepository,
  ServicesRepository,
  TrafficRepository,
  CronsRepository,
  JobsRepository,
} from './repositories.js';
import { VersionsRepository } from './version-repositories.js';
import { AllocationsRepository, RolesRepository, TokensRepository, UsersRepository, WorkspacesRepository } from './auth-repositories.js';

export type { AppRecord, AppState, CronRecord, InstanceRecord, JobRecord, JournalRecord, ProcessRecord, ServiceRecord, TrafficRecord, TrafficSummary } from './repositories.js';
export type { VersionPointers, VersionRecord } from './version-repositories.js';
export type { AllocationRecord, RoleRecord, TokenRecord, UserRecord, WorkspaceRecord } from './auth-repositories.js';
export { explain as explainStateError, migrate, openDatabase } from './database.js';

/** The platform's state: one SQLite file, the only place SQL runs. */
export class State {
  readonly apps: AppsRepository;
  readonly instances: InstancesRepository;
  readonly processes: ProcessesRepository;
  readonly journal: JournalRepository;
  readonly prepareRuns: PrepareRunsRepository;
  readonly traffic: TrafficRepository;
  readonly services: ServicesRepository;
  readonly crons: CronsRepository;
  readonly jobs: JobsRepository;
  readonly users: UsersRepository;
  readonly workspaces: WorkspacesRepository;
  readonly roles: RolesRepository;
  readonly allocations: AllocationsRepository;
  readonly tokens: TokensRepository;
  readonly versions: VersionsRepository;

  private constructor(private readonly db: Db) {
    this.apps = new AppsRepository(db);
    this.instances = new InstancesRepository(db);
    this.processes = new ProcessesRepository(db);
    this.journal = new JournalRepository(db);
    this.prepareRuns = new PrepareRunsRepository(db);
    this.traffic = new TrafficRepository(db);
    this.services = new ServicesRepository(db);
    this.crons = new CronsRepository(db);
    this.jobs = new JobsRepository(db);
    this.users = new UsersRepository(db);
    this.workspaces = new WorkspacesRepository(db);
    this.roles = new RolesRepository(db);
    this.allocations = new AllocationsRepository(db);
    this.tokens = new TokensRepository(db);
    this.versions = new VersionsRepository(db);
  }

  /**
   * Opens state.db (see openDatabase). With `space`, a write that fails for
   * want of room is dropped and reported there instead of thrown. A platform
   * checks the whole file (`fullCheck`); a reader only a small one.
   */
  static open(file: string, options: { space?: DiskSpace; fullCheck?: boolean } = {}): State {
    const db = openDatabase(file, { fullCheck: options.fullCheck });
    if (options.space) dropWritesWhenFull(db, options.space);
    return new State(db);
  }

  /** Opens an existing state.db for reading only (see openReadOnlyDatabase): nothing is migrated or written. */
  static openReadOnly(file: string): State {
    return new State(openReadOnlyDatabase(file));
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
