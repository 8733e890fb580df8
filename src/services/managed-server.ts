import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import { folderSize } from '../shared/service-rows.js';
import { currentOwner, ownerAlive } from '../shared/owner.js';
import { freePort, portIsFree } from '../shared/ports.js';
import { processStartTime } from '../supervisor/index.js';
import type { ProcessInfo } from '../supervisor/index.js';
import { sleep } from './run-client.js';
import { giveToServerUser, serverUser, type ServerUser } from './server-user.js';
import type { ServerStatus, ServiceContext } from './types.js';

/** What a running server answers on. */
export interface ServerEndpoint {
  port: number;
  /** Folder of its Unix socket, when it has one. */
  socketDir?: string;
  /** This platform started it (and stops it); otherwise another `paasmaker` owns it. */
  ours: boolean;
}

/** server.json: who runs the server now, so a second platform reuses it and a leftover is found. */
interface ServerRecord {
  port: number;
  pid: number;
  startTime: string;
  ownerPid: number;
  ownerStart: string;
}

/**
 * One database server for the whole platform, from the system's binaries,
 * with its data under $PAASMAKER_HOME/services/<name>: initialised on first
 * need, started through the supervisor (so it dies with the platform),
 * reused when another paasmaker runs it, stopped cleanly when a killed one
 * left it behind. Never two servers on one data folder.
 */
export abstract class ManagedServer {
  readonly dir: string;
  protected readonly user: ServerUser | undefined;
  private endpoint: Promise<ServerEndpoint> | undefined;
  private started = false;

  constructor(
    readonly name: string,
    protected readonly context: ServiceContext,
  ) {
    this.dir = join(context.home, 'services', name);
    this.user = serverUser(context.say);
  }

  get processId(): string {
    return `service:${this.name}`;
  }

  private get recordFile(): string {
    return join(this.dir, 'server.json');
  }

  /** Human name with version, for messages: "PostgreSQL 15". */
  abstract readonly title: string;
  /** Whether the data folder holds an initialised server. */
  protected abstract initialised(): boolean;
  /** Creates the data folder's contents (initdb, install-db, a config file). */
  protected abstract initialise(): Promise<void>;
  /** Writes anything that depends on the port, before each start. */
  protected abstract configure(port: number): void;
  /** The launch command, run through /bin/sh. */
  protected abstract command(port: number): string;
  /** Whether the server on this port takes queries, beyond accepting connections; by default, accepting is enough. */
  protected ready?(port: number): Promise<boolean>;
  /** Resolves once the server takes queries (a TCP accept comes earlier). */
  protected abstract waitUntilReady(endpoint: ServerEndpoint): Promise<void>;
  protected readonly stopSignal: NodeJS.Signals = 'SIGTERM';
  protected socketDir(): string | undefined {
    return undefined;
  }

  /** Starts the server if it is not running; concurrent callers share one start. */
  ensure(): Promise<ServerEndpoint> {
    this.endpoint ??= this.start().catch((error) => {
      this.endpoint = undefined;
      throw error;
    });
    return this.endpoint;
  }

  private async start(): Promise<ServerEndpoint> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const unlock = await this.lock();
    try {
      let record = this.readRecord();
      if (record && this.beingRestarted(record)) record = await this.awaitRestart(record);
      if (record && ownerAlive(record.pid, record.startTime)) {
        if (ownerAlive(record.ownerPid, record.ownerStart)) {
          // Another paasmaker runs it: share it.
          const endpoint = { port: record.port, socketDir: this.socketDir(), ours: false };
          await this.waitUntilReady(endpoint);
          return endpoint;
        }
        await this.stopLeftover(record);
      }
      if (this.user) giveToServerUser(this.dir, this.user, this.context.say);
      if (!this.initialised()) {
        const began = Date.now();
        await this.initialise();
        if (this.user) giveToServerUser(this.dir, this.user);
        this.context.say(`${this.title}: initialised ${this.dir} in ${Date.now() - began} ms`);
      }
      const port = await this.choosePort(record?.port);
      this.configure(port);
      if (this.user) giveToServerUser(this.dir, this.user);
      const info = await this.launch(port);
      const endpoint = { port, socketDir: this.socketDir(), ours: true };
      await this.waitUntilReady(endpoint);
      this.recordRunning(port, info.pid!);
      return endpoint;
    } finally {
      unlock();
    }
  }

  /** The port of the last run when it is still free, so apps' URLs stay the same. */
  private async choosePort(previous: number | undefined): Promise<number> {
    if (previous && (await portIsFree(previous))) return previous;
    return freePort();
  }

  private launch(port: number): Promise<ProcessInfo> {
    const supervisor = this.context.supervisor;
    const logs = join(this.context.home, 'logs', 'services');
    mkdirSync(logs, { recursive: true, mode: 0o700 });
    const env: Record<string, string> = { PATH: this.context.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TZ: 'UTC' };
    if (this.user) env.HOME = this.dir;
    const id = this.processId;
    return new Promise((resolve, reject) => {
      const onState = (info: ProcessInfo) => {
        if (info.id !== id) return;
        if (info.state === 'stopped') {
          supervisor.off('state', onState);
        } else if (info.state === 'running' && !this.started) {
          this.started = true;
          resolve(info);
        } else if (info.state === 'running') {
          // Restarted by the supervisor after a crash: on record at once, so that
          // `services` says so and every other paasmaker shares it.
          try {
            this.recordRunning(port, info.pid!);
            this.context.say(`${this.title}: restarted (pid ${info.pid})`);
          } catch (error) {
            // Inside the supervisor's event: a failed write (a full disk) must not stop the platform.
            this.context.say(`${this.title}: restarted (pid ${info.pid}), but could not record it: ${(error as Error).message}`);
          }
        } else if ((info.state === 'backoff' || info.state === 'crashed') && !this.started) {
          supervisor.off('state', onState);
          const tail = supervisor.tail(id, 15).map((line) => `  ${line.line}`);
          void supervisor.stop(id).then(() => supervisor.remove(id));
          reject(
            new PaasmakerError('SERVICE_FAILED', `${this.title} did not start on port ${port}`, {
              detail: tail.join('\n') || undefined,
              hint: `its log: ${join(logs, `${this.name}.log`)}`,
            }),
          );
        }
      };
      supervisor.on('state', onState);
      supervisor.start({
        id,
        command: this.command(port),
        cwd: this.dir,
        env,
        port,
        health: { timeout: 30 },
        ready: this.ready && (() => this.ready!(port)),
        logFile: join(logs, `${this.name}.log`),
        restart: 'always',
        stopSignal: this.stopSignal,
        stopGraceMs: 10_000,
        user: this.user ? { uid: this.user.uid, gid: this.user.gid } : undefined,
      });
    });
  }

  /** The platform that runs it lives, but the server does not: that platform is restarting it (a crash, a kill -9). */
  private beingRestarted(record: ServerRecord): boolean {
    return record.pid !== 0 && !ownerAlive(record.pid, record.startTime) && ownerAlive(record.ownerPid, record.ownerStart);
  }

  /** Waits for the owner's restart to be on record; starting a second server on the same data would fail (or worse). */
  private async awaitRestart(record: ServerRecord): Promise<ServerRecord | undefined> {
    this.context.say(`${this.title}: waiting for paasmaker (pid ${record.ownerPid}) to restart it`);
    const deadline = Date.now() + 30_000;
    let current: ServerRecord | undefined = record;
    while (current && this.beingRestarted(current)) {
      if (Date.now() > deadline) {
        throw new PaasmakerError('SERVICE_FAILED', `${this.title}: paasmaker (pid ${current.ownerPid}) runs it, but it has not come back for 30 s`, {
          hint: `its log: ${join(this.context.home, 'logs', 'services', `${this.name}.log`)}; stopping that paasmaker lets this one start it`,
        });
      }
      await sleep(50);
      current = this.readRecord();
    }
    return current;
  }

  /** A server a killed platform left running: asked to stop, and waited for. */
  private async stopLeftover(record: ServerRecord): Promise<void> {
    this.context.say(`${this.title}: stopping the server a previous paasmaker left running (pid ${record.pid})`);
    try {
      process.kill(record.pid, this.stopSignal);
    } catch {
      return;
    }
    const deadline = Date.now() + 15_000;
    while (ownerAlive(record.pid, record.startTime)) {
      if (Date.now() > deadline) {
        process.kill(record.pid, 'SIGKILL');
        await sleep(200);
        break;
      }
      await sleep(50);
    }
  }

  /** Stops the server if this platform started it. Fast: apps are already gone. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.endpoint = undefined;
    await this.context.supervisor.stop(this.processId);
    this.context.supervisor.remove(this.processId);
    // The port stays on record: the next start takes it again if it is free, so URLs keep working.
    const record = this.readRecord();
    if (!record) return;
    try {
      this.writeRecord({ ...record, pid: 0, startTime: '' });
    } catch (error) {
      // Left as it is, the record would name the stopped server as this platform's,
      // and every other paasmaker would wait for a restart: it goes (the next start picks a port).
      try {
        rmSync(this.recordFile, { force: true });
      } catch {
        // nothing more to do
      }
      this.context.say(`${this.title}: stopped, but could not record it (${(error as Error).message}); its record ${this.recordFile} was removed`);
    }
  }

  status(): ServerStatus {
    const record = this.readRecord();
    const running = record !== undefined && ownerAlive(record.pid, record.startTime);
    return {
      plugin: this.name,
      state: running ? 'running' : record && this.beingRestarted(record) ? 'restarting' : 'stopped',
      port: running ? record.port : undefined,
      pid: running ? record.pid : undefined,
      size: existsSync(this.dir) ? folderSize(this.dir) : 0,
      dataDir: this.dir,
    };
  }

  private readRecord(): ServerRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.recordFile, 'utf8')) as ServerRecord;
    } catch {
      return undefined;
    }
  }

  private recordRunning(port: number, pid: number): void {
    const owner = currentOwner();
    this.writeRecord({ port, pid, startTime: processStartTime(pid) ?? '', ownerPid: owner.pid, ownerStart: owner.startTime });
  }

  /** Whole or not at all: another paasmaker may read it at any moment. */
  private writeRecord(record: ServerRecord): void {
    const temporary = `${this.recordFile}.${process.pid}`;
    try {
      writeFileSync(temporary, `${JSON.stringify(record)}\n`, { mode: 0o600 });
      renameSync(temporary, this.recordFile);
    } catch (error) {
      rmSync(temporary, { force: true }); // a full disk leaves it behind, empty or cut
      throw error;
    }
  }

  /** Writes a file the server reads, owned by its user. */
  protected writeOwnFile(file: string, text: string, mode = 0o600): void {
    writeFileSync(file, text, { mode });
    if (this.user) chownSync(file, this.user.uid, this.user.gid);
  }

  /** One starter at a time across processes: an exclusive lock file, taken over when its holder died. */
  private async lock(): Promise<() => void> {
    const file = join(this.dir, '.lock');
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        const owner = currentOwner();
        writeFileSync(fd, `${owner.pid} ${owner.startTime}\n`);
        closeSync(fd);
        return () => rmSync(file, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const [pid, start] = readFileSync(file, 'utf8').trim().split(' ');
        if (!pid || !start) {
          await sleep(20); // being written
          continue;
        }
        if (!ownerAlive(Number(pid), start)) {
          rmSync(file, { force: true });
          continue;
        }
        if (Date.now() > deadline) throw new PaasmakerError('SERVICE_FAILED', `${this.title}: another paasmaker (pid ${pid}) has been starting it for a minute`);
        await sleep(50);
      }
    }
  }
}

