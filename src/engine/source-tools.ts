import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { PaasmakerError } from '../shared/errors.js';
import { installLine, type Packages } from '../shared/install-line.js';

/** The programs that read a deploy's source: git for repositories, tar and unzip for archives. */
export type SourceTool = 'git' | 'tar' | 'unzip';

const PACKAGES: Record<SourceTool, Packages> = {
  git: { apt: 'git', dnf: 'git', pacman: 'git', apk: 'git', brew: 'git' },
  tar: { apt: 'tar', dnf: 'tar', pacman: 'tar', apk: 'tar', brew: 'gnu-tar' },
  unzip: { apt: 'unzip', dnf: 'unzip', pacman: 'unzip', apk: 'unzip', brew: 'unzip' },
};

/** Variables that would point git at another repository than the one each command names. */
const GIT_LOCATORS = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR', 'GIT_NAMESPACE', 'GIT_PREFIX', 'GIT_QUARANTINE_PATH'];

/** A source tool that ran and said no: its exit and the end of what it wrote on stderr. */
export class ToolFailure extends Error {
  constructor(
    readonly tool: SourceTool,
    readonly exit: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
  ) {
    super(`${tool} ${signal ? `was stopped by ${signal}` : `exited with code ${exit}`}${stderr ? `: ${lastLine(stderr)}` : ''}`);
    this.name = 'ToolFailure';
  }
}

/** The last non-empty line a tool wrote, without git's "fatal: " / "error: " prefix. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  return (lines.at(-1) ?? '').replace(/^(fatal|error): /, '');
}

export interface ToolOptions {
  cwd?: string;
  signal?: AbortSignal;
  /** Fed to the tool's stdin (another tool's stdout, for a pipe). */
  input?: Readable;
  /** Leave stdout to the caller (child.stdout) instead of collecting it. */
  streamOutput?: boolean;
}

export interface RunningTool {
  child: ChildProcess;
  /** Resolves with stdout (empty when streamed); rejects with a ToolFailure, the signal's reason, or SOURCE_TOOL_MISSING. */
  done: Promise<string>;
}

const STDERR_KEPT = 16 * 1024;

export const DISK_FULL_HINT = 'free some space (paasmaker versions prune APP --keep N removes old versions)';

/** Starts a tool with an argv (never through a shell); aborting the signal stops it. */
export function startTool(tool: SourceTool, args: string[], options: ToolOptions = {}): RunningTool {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' };
  for (const name of GIT_LOCATORS) delete env[name];
  const child = spawn(tool, args, {
    cwd: options.cwd,
    env,
    stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const done = new Promise<string>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    if (!options.streamOutput) child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEPT);
    });
    if (options.input) {
      options.input.pipe(child.stdin!);
      // The tool may stop reading early (it failed): its exit says why, not the broken pipe.
      child.stdin!.on('error', () => undefined);
    }
    const onAbort = () => child.kill('SIGTERM');
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (error.code === 'ENOENT') reject(toolMissing(tool));
      else reject(error);
    });
    child.once('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) reject(options.signal.reason);
      else if (code === 0) resolve(stdout);
      else if (/No space left on device|Disk quota exceeded/i.test(stderr)) reject(new PaasmakerError('DISK_FULL', `${tool} ran out of disk space: ${lastLine(stderr)}`, { hint: DISK_FULL_HINT }));
      else reject(new ToolFailure(tool, code, signal, stderr));
    });
  });
  return { child, done };
}

/** Runs a tool to completion: its stdout. */
export function runTool(tool: SourceTool, args: string[], options: ToolOptions = {}): Promise<string> {
  return startTool(tool, args, options).done;
}

/**
 * Runs `from | to`. When both fail, the first one's failure is the cause,
 * unless it only lost its reader (the second stopped early and took the pipe
 * with it).
 */
export async function pipeTools(from: { tool: SourceTool; args: string[] }, to: { tool: SourceTool; args: string[] }, options: Omit<ToolOptions, 'input' | 'streamOutput'> = {}): Promise<void> {
  const source = startTool(from.tool, from.args, { ...options, streamOutput: true });
  const sink = startTool(to.tool, to.args, { ...options, input: source.child.stdout! });
  const [first, second] = await Promise.allSettled([source.done, sink.done]);
  if (first.status === 'rejected') {
    const lostReader = first.reason instanceof ToolFailure && (first.reason.signal === 'SIGPIPE' || /broken pipe/i.test(first.reason.stderr));
    if (!(lostReader && second.status === 'rejected')) throw first.reason;
  }
  if (second.status === 'rejected') throw second.reason;
}

export function toolMissing(tool: SourceTool): PaasmakerError {
  return new PaasmakerError('SOURCE_TOOL_MISSING', `${tool} is not installed on this machine; Paasmaker needs it to read this source`, {
    hint: `install ${tool}: ${installLine(PACKAGES[tool])}`,
  });
}
