import { createReadStream, createWriteStream, openSync, rmSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { dumpWhat, sniffDump } from '../shared/dump-formats.js';
import { PaasmakerError } from '../shared/errors.js';
import { memoryText as sizeText } from '../shared/usage-text.js';
import { exitError, lastLines, startClient } from './run-client.js';
import type { DataStep } from './types.js';

/**
 * What dumps and restores of every service plugin share: a command's output
 * streamed into a dump file (gzip-compressed if asked), a dump file streamed
 * into a command, a gzip file checked whole before anything is touched,
 * progress lines about once a second, and the job's abort.
 */

/** The error a stopped step ends with: the abort's own reason when it is an error. */
export function stoppedError(step: DataStep, what: string): Error {
  const reason: unknown = step.signal?.reason;
  if (reason instanceof PaasmakerError) return reason;
  return new PaasmakerError('SERVICE_FAILED', `${what}: stopped before it was complete`, { detail: reason instanceof Error ? reason.message : undefined });
}

/** Throws if the step was aborted: called between pieces of work that cannot be interrupted. */
export function throwIfStopped(step: DataStep, what: string): void {
  if (step.signal?.aborted) throw stoppedError(step, what);
}

/** Says `line()` every second until the returned function is called. */
export function everySecond(step: DataStep, line: () => string): () => void {
  const timer = setInterval(() => step.say(line()), 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** What a file is, in words, from its first bytes (sniffDump): "a Redis dump", "a gzip file of an unknown kind", "an empty file". */
export async function fileWhat(file: string): Promise<string> {
  let found: Awaited<ReturnType<typeof sniffDump>>;
  try {
    found = await sniffDump(file);
  } catch (error) {
    return `unreadable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  if (found.empty) return 'an empty file';
  if (found.format) return `${dumpWhat(found.format)}${found.gzip && (found.format === 'postgresql' || found.format === 'redis') ? ', gzip-compressed' : ''}`;
  return found.gzip ? 'a gzip file of an unknown kind' : 'a file of an unknown kind';
}

/** A file of another kind than `format`'s dumps: DUMP_INVALID naming what it is, with basename only. */
export async function wrongKind(file: string, format: string, expected = dumpWhat(format)): Promise<PaasmakerError> {
  return dumpInvalid(file, format, `is not ${expected}: it is ${await fileWhat(file)}`, { predicate: true, hint: `give ${dumpWhat(format)} as paasmaker db dump writes it; nothing was changed` });
}

/** Whether an error (or a tool's words) says the disk is full: ENOSPC or EDQUOT. */
export function isDiskFull(error: unknown): boolean {
  if (typeof error === 'string') return /No space left on device|Disk quota exceeded/i.test(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

/** DISK_FULL for a dump that did not fit where it was being written. */
export function diskFull(file: string, what: string, detail?: string): PaasmakerError {
  return new PaasmakerError('DISK_FULL', `${what}: no space left on the disk holding ${basename(file)}`, { hint: `free space on the disk holding ${file} (see: df -h), or dump somewhere else; no partial file was kept`, detail });
}

/** The start and the end of a gzip file's content, read whole. */
export interface GzipContent {
  head: Buffer;
  tail: Buffer;
  /** Bytes once decompressed. */
  size: number;
}

/**
 * Decompresses the whole of a gzip file without keeping it: a file that is
 * not gzip, or is cut short or damaged, is a DUMP_INVALID error naming the
 * file and what zlib found. The start and the end of the content come back,
 * so the caller can check that it is the kind of dump it reads; `inspect`
 * sees each line on the way.
 */
export async function readGzip(file: string, format: string, expected: string, step: DataStep, inspect?: (line: Buffer) => void): Promise<GzipContent> {
  if (!(await sniffDump(file).catch(() => ({ gzip: false }))).gzip) throw await wrongKind(file, format, expected);
  const keep = 4096;
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  let size = 0;
  const sink = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      size += chunk.length;
      if (head.length < keep) head = Buffer.concat([head, chunk.subarray(0, keep - head.length)]);
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > keep) tail = tail.subarray(tail.length - keep);
    }
  };
  try {
    if (inspect) await pipeline(createReadStream(file), createGunzip(), eachLine((line) => (inspect(line), line)), sink, { signal: step.signal });
    else await pipeline(createReadStream(file), createGunzip(), sink, { signal: step.signal });
  } catch (error) {
    if (step.signal?.aborted) throw stoppedError(step, `checking ${basename(file)}`);
    throw dumpInvalid(file, format, `it is damaged or cut short: ${(error as Error).message} after ${sizeText(size)} of content`);
  }
  return { head, tail, size };
}

/**
 * A stream that hands each line (with its newline) to `change` and passes on
 * what it returns: for rewriting a text dump on its way to a server. Bytes,
 * not text, so that a line the change leaves alone passes unaltered.
 */
export function eachLine(change: (line: Buffer) => Buffer): Transform {
  let rest: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
        this.push(change(data.subarray(start, end + 1)));
        start = end + 1;
      }
      rest = Buffer.from(data.subarray(start));
      done();
    },
    flush(done) {
      if (rest.length > 0) this.push(change(rest));
      done();
    },
  });
}

interface CommandOptions {
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** What it does, for messages: "dumping MySQL database shop__my". */
  what: string;
  step: DataStep;
  /** Left out of error messages. */
  secrets?: string[];
}

/** A running command (startClient, killed on abort); `exited` rejects with exitError or the step's stoppedError. */
function start(options: CommandOptions, input: boolean) {
  const { child, exit } = startClient(options.command, options.args, { env: options.env, input: input ? 'pipe' : undefined, output: input ? undefined : 'pipe', signal: options.step.signal, killSignal: 'SIGKILL' });
  const exited = exit.then((ended) => {
    if (ended.ok) return;
    if (ended.aborted) throw stoppedError(options.step, options.what);
    throw exitError(ended, options.what, options.secrets);
  });
  exited.catch(() => {}); // awaited by the caller, maybe after the pipeline
  return { child, exited };
}

/**
 * Runs a dump command with its output (gzip-compressed when asked) going
 * into `file`, a new file made here with mode 0600. A full disk is DISK_FULL. Says the bytes written every second. A failure or an abort
 * kills the command and removes the partial file. Resolves with the file's size.
 */
export async function commandToFile(file: string, options: CommandOptions & { gzip?: boolean }): Promise<number> {
  throwIfStopped(options.step, options.what);
  const out = createWriteStream(file, { fd: newFile(file) });
  const { child, exited } = start(options, false);
  const quiet = everySecond(options.step, () => `${options.what}: ${sizeText(out.bytesWritten)} written`);
  const stages: Array<Readable | Writable> = [child.stdout!, ...(options.gzip ? [createGzip()] : []), out];
  try {
    const [flowed, ran] = await Promise.allSettled([pipeline(stages), exited]);
    // A full disk stops the writing first; the command then dies of SIGPIPE: the disk is what to tell.
    if (flowed.status === 'rejected' && isDiskFull(flowed.reason)) throw diskFull(file, options.what, (flowed.reason as Error).message);
    if (ran.status === 'rejected') throw ran.reason;
    if (flowed.status === 'rejected') throw options.step.signal?.aborted ? stoppedError(options.step, options.what) : flowed.reason;
    return statSync(file).size;
  } catch (error) {
    child.kill('SIGKILL');
    out.destroy();
    rmSync(file, { force: true });
    throw error;
  } finally {
    quiet();
  }
}

/**
 * Runs a load command with `file` (decompressed when asked) on its stdin,
 * saying every second how much of the file has been read. An abort kills
 * the command. Resolves once the command has succeeded.
 */
export async function fileToCommand(file: string, options: CommandOptions & { gunzip?: boolean; through?: Transform }): Promise<void> {
  throwIfStopped(options.step, options.what);
  const total = statSync(file).size;
  const input = createReadStream(file);
  const { child, exited } = start(options, true);
  const quiet = everySecond(options.step, () => `${options.what}: ${sizeText(input.bytesRead)} of ${sizeText(total)} read`);
  child.stdin!.on('error', () => {}); // a command that fails stops reading: its own error says why
  try {
    const [flowed, ran] = await Promise.allSettled([pipeline([input, ...(options.gunzip ? [createGunzip()] : []), ...(options.through ? [options.through] : []), child.stdin!]), exited]);
    if (ran.status === 'rejected') throw ran.reason;
    if (flowed.status === 'rejected') throw options.step.signal?.aborted ? stoppedError(options.step, options.what) : flowed.reason;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    quiet();
  }
}

// What the file-based plugins' dumps and restores share: gzip in and out,
// and tar, each checked whole before anything is replaced.

/**
 * A file that is not a whole dump of its kind: DUMP_INVALID, naming the file
 * (its base name: never a server's temporary path) and what is wrong: "<file>
 * is not a whole dump: <why>", or "<file> <why>" with `predicate` (a file of
 * a kind this server cannot read). `hint` replaces the usual one.
 */
export function dumpInvalid(file: string, format: string, why: string, extra: { hint?: string; detail?: string; predicate?: boolean } = {}): PaasmakerError {
  return new PaasmakerError('DUMP_INVALID', extra.predicate ? `${basename(file)} ${why}` : `${basename(file)} is not a whole dump: ${why}`, {
    hint: extra.hint ?? `give ${dumpWhat(format)} as paasmaker db dump writes it (a file cut short by an interrupted copy or download is refused: copy it again); nothing was changed`,
    detail: extra.detail,
  });
}

/**
 * A dump's target: a new file of mode 0600, opened here (a name that is
 * taken is an error before anything is written, and never removed).
 */
export function newFile(path: string): number {
  return openSync(path, 'wx', 0o600);
}

/** Compresses `from` into `to`, a new file of mode 0600. */
export async function gzipFile(from: string, to: string, step: DataStep): Promise<void> {
  const output = createWriteStream(to, { fd: newFile(to) });
  try {
    await pipeline(createReadStream(from), createGzip(), output, { signal: step.signal });
  } catch (error) {
    rmSync(to, { force: true });
    if (step.signal?.aborted) throw stoppedError(step, `compressing the dump into ${basename(to)}`);
    if (isDiskFull(error)) throw diskFull(to, `compressing the dump into ${basename(to)}`, (error as Error).message);
    throw error;
  }
}

/**
 * Decompresses `from` into `to` (a new file, 0600), or copies it when it is
 * not gzip; a gzip stream that is cut short or corrupt is DUMP_INVALID.
 */
export async function gunzipFile(from: string, to: string, format: string, options: { gzip: boolean; step: DataStep }): Promise<void> {
  const output = createWriteStream(to, { fd: newFile(to) });
  const signal = options.step.signal;
  try {
    if (options.gzip) await pipeline(createReadStream(from), createGunzip(), output, { signal });
    else await pipeline(createReadStream(from), output, { signal });
  } catch (error) {
    if (signal?.aborted) throw stoppedError(options.step, `reading ${basename(from)}`);
    if (isDiskFull(error)) throw new PaasmakerError('DISK_FULL', `no space left to unpack ${basename(from)} beside the service's data`, { hint: 'free space on the disk holding $PAASMAKER_HOME/data (see: df -h); nothing was changed' });
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || code === 'ERR_ZLIB') throw dumpInvalid(from, format, `gzip says "${(error as Error).message}"`);
    throw error;
  }
}

/** Runs tar with an argv (never a shell); resolves with its stdout; a failure carries its last words. `okCodes`: exits that are not failures. */
export async function runTar(args: string[], options: { step: DataStep; okCodes?: number[] }): Promise<string> {
  const { child, exit } = startClient('tar', args, { env: { LC_ALL: 'C' }, output: 'pipe', signal: options.step.signal });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const ended = await exit;
  if (ended.spawnError?.code === 'ENOENT') throw new PaasmakerError('SERVICE_BINARY_MISSING', 'tar is not installed', { hint: 'install it: sudo apt-get install tar (brew install gnu-tar)' });
  if (ended.aborted) throw stoppedError(options.step, `tar ${args[0] ?? ''}`.trim());
  if (ended.code !== null && (ended.code === 0 || (options.okCodes ?? []).includes(ended.code)) && !ended.spawnError) return out;
  // A full disk: tar's errno text, or its short write ("Wrote only 4096 of 10240 bytes").
  if (isDiskFull(ended.errors) || /Wrote only \d+ of \d+ bytes/.test(ended.errors)) {
    throw new PaasmakerError('DISK_FULL', 'tar: no space left on the disk it was writing to', { hint: 'free space on that disk (see: df -h), or dump somewhere else; no partial file was kept', detail: lastLines(ended.errors) });
  }
  throw new TarFailure(ended.signal ? `tar was stopped by ${ended.signal}` : `tar exited with code ${ended.code}`, ended.errors.trim().split('\n').slice(-3).join('; '));
}

/** tar said no: its exit, and the end of what it wrote on stderr. */
export class TarFailure extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(`${message}${stderr ? `: ${stderr}` : ''}`);
    this.name = 'TarFailure';
  }
}
