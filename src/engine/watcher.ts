import { existsSync, readFileSync, stat, type Stats } from 'node:fs';
import { relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import ignore from 'ignore';

/** Never worth a reload: version control, dependencies, caches, editors' scratch files. */
const ALWAYS_IGNORED = ['.git/', 'node_modules/', '__pycache__/', '.venv/', 'venv/', '*.pyc', '.DS_Store', '*.swp', '*.swx', '*~', '.#*', '#*#', '.paasmaker/'];

/**
 * Quiet time that ends a save: an editor's (a backup renamed, the file
 * written) comes within a few ms, and every ms of the wait is added to each
 * reload. A save whose events come further apart costs no wrong switch: the
 * reload its first events started is stopped while its processes start, and
 * the next one takes over (RollingUpdates).
 */
const DEBOUNCE_MS = 10;
/**
 * Quiet time that ends a burst of more files than a save touches (a checkout,
 * a generator, a build writing many): their events can come further apart on
 * a busy machine, and one reload of the whole burst is worth a longer wait.
 */
const BURST_DEBOUNCE_MS = 150;
const SAVE_FILES = 3;
/**
 * chokidar reports no second change of a file within 50 ms of the last one it
 * reported, and nothing after: a save right after another (a formatter's, a
 * quick second edit) would be lost. A changed file is looked at again once
 * that window has passed, and a change it hid is noted then.
 */
const RECHECK_MS = 60;
const MAX_RECHECKS = 256;

export interface WatchOptions {
  /** The project folder. */
  root: string;
  /** Folders never watched (PAASMAKER_HOME, when it is inside the project). */
  exclude?: string[];
  /** The manifest's watch.ignore globs (gitignore syntax). */
  ignore?: string[];
  /** Quiet time that ends a burst of changes (a git checkout is one reload). */
  debounceMs?: number;
  onChange: (paths: string[]) => void;
  /** Told once, in a line, when watching stops for good; default: standard error. */
  onProblem?: (line: string) => void;
}

/**
 * Watches a project for saves: ignores what .gitignore and the manifest say,
 * and reports each burst of changes once, as paths relative to the root.
 */
export class ProjectWatcher {
  private readonly watcher: FSWatcher;
  private readonly changed = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private firstAt = 0;
  /** Files to look at again, with their size and time as last reported. */
  private readonly rechecks = new Map<string, { timer: NodeJS.Timeout; mtimeMs: number; size: number }>();
  /** Watching stopped after an error; the app runs on without reloads. */
  private off = false;
  /**
   * Settles once the tree is read, or watching stopped on an error, or the
   * watcher was closed first (chokidar never says 'ready' then, and a wait on
   * it would hold a Ctrl-C'd `up` until its event loop ran dry).
   */
  readonly ready: Promise<void>;
  private settleReady!: () => void;
  /** Settles when close() is called. */
  readonly closed: Promise<void>;
  private settleClosed!: () => void;

  constructor(private readonly options: WatchOptions) {
    const rules = ignore().add(ALWAYS_IGNORED).add(options.ignore ?? []);
    const gitignore = `${options.root}${sep}.gitignore`;
    if (existsSync(gitignore)) rules.add(readFileSync(gitignore, 'utf8'));
    const excluded = (options.exclude ?? []).map((dir) => relative(options.root, dir)).filter((dir) => dir && !dir.startsWith('..'));
    const ignored = (path: string, stats?: { isDirectory(): boolean }) => {
      const rel = relative(options.root, path);
      if (rel === '' || rel.startsWith('..')) return false;
      if (excluded.some((dir) => rel === dir || rel.startsWith(`${dir}${sep}`))) return true;
      const posix = rel.split(sep).join('/');
      return rules.ignores(stats?.isDirectory() ? `${posix}/` : posix) || rules.ignores(posix);
    };
    this.watcher = watch(options.root, { ignored, ignoreInitial: true, persistent: true });
    this.watcher.on('all', (event, path, stats) => {
      this.note(relative(options.root, path));
      if ((event === 'change' || event === 'add') && stats) this.recheck(path, stats);
    });
    this.closed = new Promise((resolve) => (this.settleClosed = resolve));
    this.ready = new Promise((resolve) => {
      this.settleReady = resolve;
      this.watcher.once('ready', () => resolve());
      // Out of descriptors or inotify watches: stop watching rather than take the platform down.
      this.watcher.on('error', (error) => {
        this.stop(error as NodeJS.ErrnoException);
        resolve();
      });
    });
  }

  /** Whether saves are still being watched. */
  get watching(): boolean {
    return !this.off;
  }

  private stop(error: NodeJS.ErrnoException): void {
    if (this.off) return;
    this.off = true;
    clearTimeout(this.timer);
    this.clearRechecks();
    this.changed.clear();
    const why =
      error.code === 'ENOSPC'
        ? "the system's limit of file watches is reached (fs.inotify.max_user_watches)"
        : error.code === 'EMFILE' || error.code === 'ENFILE'
          ? 'out of file descriptors'
          : error.message;
    const say = this.options.onProblem ?? ((line: string) => process.stderr.write(`${line}\n`));
    say(`watching ${this.options.root} is off: ${why}; saves are not reloaded until the app is started again`);
    this.watcher.close().catch(() => undefined);
  }

  private note(path: string): void {
    if (this.off) return;
    this.changed.add(path);
    const now = Date.now();
    if (this.changed.size === 1) this.firstAt = now;
    clearTimeout(this.timer);
    // Wait for quiet, but never more than a second after the first change.
    const quiet = this.options.debounceMs ?? (this.changed.size > SAVE_FILES ? BURST_DEBOUNCE_MS : DEBOUNCE_MS);
    const wait = Math.min(quiet, Math.max(0, this.firstAt + 1000 - now));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private recheck(path: string, seen: Pick<Stats, 'mtimeMs' | 'size'>): void {
    const pending = this.rechecks.get(path);
    if (pending) {
      pending.mtimeMs = seen.mtimeMs;
      pending.size = seen.size;
      return;
    }
    if (this.rechecks.size >= MAX_RECHECKS) return;
    const timer = setTimeout(() => {
      const last = this.rechecks.get(path)!;
      this.rechecks.delete(path);
      stat(path, (error, now) => {
        // Gone: chokidar tells that itself.
        if (error || this.off) return;
        if (now.mtimeMs === last.mtimeMs && now.size === last.size) return;
        this.note(relative(this.options.root, path));
        this.recheck(path, now);
      });
    }, RECHECK_MS);
    this.rechecks.set(path, { timer, mtimeMs: seen.mtimeMs, size: seen.size });
  }

  private flush(): void {
    const paths = [...this.changed];
    this.changed.clear();
    if (paths.length > 0) this.options.onChange(paths);
  }

  private clearRechecks(): void {
    for (const { timer } of this.rechecks.values()) clearTimeout(timer);
    this.rechecks.clear();
  }

  async close(): Promise<void> {
    this.off = true;
    this.settleReady();
    this.settleClosed();
    clearTimeout(this.timer);
    this.clearRechecks();
    await this.watcher.close();
  }
}
