import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { ProcessRow } from '../../src/engine/index.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = join(repoRoot, 'bin', 'paasmaker');
export const examples = join(repoRoot, 'examples');

/** A fresh PAASMAKER_HOME, removed by the returned cleanup. */
export function tempHome(): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), 'pm-home-'));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PAASMAKER_HOME: home, NO_COLOR: '1', FORCE_COLOR: undefined, PAASMAKER_PROXY_PORT: '0', PAASMAKER_DNS_PORT: '0', PAASMAKER_TLS_PORT: '0', ...extra };
}

/** Runs a short CLI command to completion. */
export function runCli(args: string[], options: { home: string; cwd?: string; env?: Record<string, string>; input?: string }) {
  return execa(bin, args, { cwd: options.cwd ?? repoRoot, env: cliEnv(options.home, options.env), reject: false, timeout: 60_000, ...(options.input === undefined ? {} : { input: options.input }) });
}

/** A paasmaker.yml of an app whose web process serves nothing of interest, with these lines under services:. */
export function plainManifest(name: string, services: string[]): string {
  return [
    'application:',
    `  name: ${name}`,
    'instances:',
    '  web:',
    `    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"`,
    'services:',
    ...services,
    '',
  ].join('\n');
}

/** A long-running CLI command (`up`), its output collected, in its own process group. */
export class CliProcess {
  readonly child: ChildProcess;
  output = '';
  private exited: Promise<number | null>;

  constructor(args: string[], options: { home: string; cwd?: string; env?: Record<string, string> }) {
    this.child = spawn(bin, args, {
      cwd: options.cwd ?? repoRoot,
      env: cliEnv(options.home, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolveExit) => this.child.once('exit', (code) => resolveExit(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitForOutput(pattern: RegExp | string, timeoutMs = 20_000): Promise<void> {
    const test = () => (typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output));
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (this.child.exitCode !== null) throw new Error(`paasmaker exited (${this.child.exitCode}) before printing ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output so far:\n${this.output}`);
      await sleep(25);
    }
  }

  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  wait(timeoutMs = 20_000): Promise<number | null> {
    return Promise.race([
      this.exited,
      sleep(timeoutMs).then(() => {
        throw new Error(`paasmaker did not exit within ${timeoutMs} ms:\n${this.output}`);
      }),
    ]);
  }

  /** Kills the whole group (cleanup); harmless when it is gone. */
  kill(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

/** Whether a pid is a live process (a zombie waiting for its reaper counts as dead). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return !existsSync('/proc/self');
  }
}

export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

export type PsRow = ProcessRow;

/** Every process slot, stopped apps too (ps -a). */
export async function psJson(home: string): Promise<PsRow[]> {
  const result = await runCli(['ps', '-a', '--json'], { home });
  if (result.exitCode !== 0) throw new Error(`ps failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as PsRow[];
}

/** Every descendant pid of a process (Linux /proc), to prove none outlives it. */
export async function descendants(pid: number): Promise<number[]> {
  const { readdirSync, readFileSync } = await import('node:fs');
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const [child, parent] of parents) {
      if (parent === current) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Stops the daemon of a home (killing it if it does not stop), then removes the home. */
export async function stopDaemonAndRemove(home: string, remove: () => void): Promise<void> {
  let record: { pid: number } | undefined;
  try {
    record = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { pid: number };
  } catch {
    record = undefined;
  }
  await runCli(['daemon', 'stop'], { home });
  if (record && alive(record.pid)) process.kill(record.pid, 'SIGKILL');
  remove();
}

/** GET through the router by hostname, on a connection of its own: the answer's body. */
export function getByHost(port: number, host: string, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET over https by hostname (SNI and Host), trusting only `ca`, on a connection of its own: the answer's body. */
export function httpsGet(port: number, name: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, servername: name, headers: { host: name }, ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** One API request over the platform's Unix socket: the status and the parsed JSON answer (an error answer too). */
export function apiRequest(socketPath: string, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const text = options.body === undefined ? undefined : JSON.stringify(options.body);
    const length = text === undefined ? {} : { 'content-length': String(Buffer.byteLength(text)) };
    const req = request({ socketPath, path, method, headers: { host: 'localhost', 'content-type': 'application/json', ...length, ...options.headers } }, (res) => {
      let answer = '';
      res.on('data', (chunk) => (answer += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, json: answer ? JSON.parse(answer) : undefined }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Runs a CLI command and watches, while it runs, for a keeper (a platform's sh guard) among its descendants. */
export async function runWatchingKeepers(args: string[], pmHome: string, options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): Promise<{ exitCode: number | undefined; stdout: string; stderr: string; keepers: number }> {
  const child = runCli(args, { home: pmHome, ...options });
  let done = false;
  void child.finally(() => (done = true));
  const keepers = new Set<number>();
  while (!done) {
    for (const pid of await descendants(child.pid!)) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('PAASMAKER_KEEPER_TOKEN')) keepers.add(pid);
      } catch {
        // exited while we looked
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const result = await child;
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr), keepers: keepers.size };
}

/** What a spec makes for a test — project folders, homes, foreground `up`s — undone after it, last made first. */
export class Scratch {
  private readonly undo: Array<() => Promise<void> | void> = [];

  /** A temporary project folder holding these files. */
  project = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-project-'));
    this.undo.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  /** A fresh PAASMAKER_HOME. */
  home = (): string => {
    const made = tempHome();
    this.undo.push(made.cleanup);
    return made.home;
  };

  /** A fresh PAASMAKER_HOME whose daemon (if one is started in it) is stopped at cleanup. */
  daemonHome = (): string => {
    const made = tempHome();
    this.undo.push(() => stopDaemonAndRemove(made.home, made.cleanup));
    return made.home;
  };

  /** `up --no-tui --no-watch ARGS` (watching with `watch`) in the foreground, once it has printed `ready`; stopped with Ctrl-C (SIGINT) afterwards. */
  up = async (args: string[], options: { home: string; cwd?: string; env?: Record<string, string>; watch?: boolean }, ready: RegExp): Promise<CliProcess> => {
    const process = new CliProcess(['up', '--no-tui', ...(options.watch ? [] : ['--no-watch']), ...args], options);
    this.undo.push(async () => {
      process.signal('SIGINT');
      await process.wait(15_000).catch(() => process.kill());
    });
    await process.waitForOutput(ready, 30_000);
    return process;
  };

  async cleanup(): Promise<void> {
    for (const step of this.undo.splice(0).reverse()) await step();
  }
}
