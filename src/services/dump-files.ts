import { spawn } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, openSync, readSync, rmSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { dumpWhat } from '../shared/dump-formats.js';
import { PaasmakerError } from '../shared/errors.js';
import { memoryText as sizeText } from '../shared/usage-text.js';
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

/** What a file looks like from its first bytes, for "X is not a MySQL dump: it is …". */
export function fileKind(file: string): string {
  let head: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      head = Buffer.alloc(512);
      head = head.subarray(0, readSync(fd, head, 0, head.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return `unreadable (${(error as Error).message})`;
  }
  if (head.length === 0) return 'an empty file';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'a gzip file';
  const text = head.toString('latin1');
  if (text.startsWith('REDIS')) return 'a Redis RDB file';
  if (text.startsWith('PGDMP')) return 'a PostgreSQL dump (pg_dump -Fc)';
  if (text.startsWith('SQLite format 3\0')) return 'an SQLite database';
  if (text.slice(257, 262) === 'ustar') return 'a tar archive';
  if (/^[\t\n\r\x20-\x7e\x80-\xff]*$/.test(text)) return `a text file starting "${text.slice(0, 40).split('\n')[0]}"`;
  return 'a binary file of an unknown kind';
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
export async function readGzip(file: string, expected: string, step: DataStep, inspect?: (line: Buffer) => void): Promise<GzipContent> {
  const kind = fileKind(file);
  if (kind !== 'a gzip file') throw new PaasmakerError('DUMP_INVALID', `${file} is not ${expected}: it is ${kind}`, { hint: `give a file made by a dump of a service of the same kind (${expected})` });
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
    if (step.signal?.aborted) throw stoppedError(step, `checking ${file}`);
    throw new PaasmakerError('DUMP_INVALID', `${file} is damaged or cut short: ${(error as Error).message} after ${sizeText(size)} of content`, {
      hint: 'the dump was not copied whole (or not made whole): use another copy of it, or another dump',
    });
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

/** A running command whose exit is turned into a SERVICE_FAILED error with its last words. */
function start(options: CommandOptions, stdio: ['ignore' | 'pipe', 'pipe' | 'ignore', 'pipe']) {
  const child = spawn(options.command, options.args, { env: { ...process.env, ...options.env }, stdio });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-4000);
  });
  const kill = () => child.kill('SIGKILL');
  options.step.signal?.addEventListener('abort', kill, { once: true });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new PaasmakerError('SERVICE_FAILED', `${options.what}: could not run ${options.command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      options.step.signal?.removeEventListener('abort', kill);
      if (code === 0) return resolve();
      if (options.step.signal?.aborted) return reject(stoppedError(options.step, options.what));
      let words = err.trim().split('\n').slice(-6).join('\n');
      for (const secret of options.secrets ?? []) if (secret) words = words.split(secret).join('********');
      reject(new PaasmakerError('SERVICE_FAILED', `${options.what} failed (${signal ? `killed by ${signal}` : `exit code ${code}`})`, { detail: words || undefined }));
    });
  });
  return { child, exited };
}

/**
 * Runs a dump command with its output (gzip-compressed when asked) going
 * into `file`, made here with mode 0600 (an older file of that name is
 * replaced). Says the bytes written every second. A failure or an abort
 * kills the command and removes the partial file. Resolves with the file's size.
 */
export async function commandToFile(file: string, options: CommandOptions & { gzip?: boolean }): Promise<number> {
  throwIfStopped(options.step, options.what);
  rmSync(file, { force: true });
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  const { child, exited } = start(options, ['ignore', 'pipe', 'pipe']);
  const quiet = everySecond(options.step, () => `${options.what}: ${sizeText(out.bytesWritten)} written`);
  const stages: Array<Readable | Writable> = [child.stdout!, ...(options.gzip ? [createGzip()] : []), out];
  try {
    const [flowed, ran] = await Promise.allSettled([pipeline(stages), exited]);
    // A full disk stops the file first; the command then only loses its reader.
    const code = flowed.status === 'rejected' ? (flowed.reason as NodeJS.ErrnoException).code : undefined;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new PaasmakerError('DISK_FULL', `${options.what}: no space left for ${file}`, { hint: `free space on the disk holding ${file} (see: df -h), or dump somewhere else` });
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
  const { child, exited } = start(options, ['pipe', 'ignore', 'pipe']);
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

/** A file that is not a whole dump of its kind: DUMP_INVALID, naming the file and what is wrong. */
export function dumpInvalid(file: string, format: string, why: string): PaasmakerError {
  return new PaasmakerError('DUMP_INVALID', `${basename(file)} is not a whole dump: ${why}`, {
    hint: `give ${dumpWhat(format)} as paasmaker db dump writes it (a file cut short by an interrupted copy or download is refused: copy it again); nothing was changed`,
  });
}

/** Compresses `from` into `to`, a new file of mode 0600. */
export async function gzipFile(from: string, to: string, signal?: AbortSignal): Promise<void> {
  await pipeline(createReadStream(from), createGzip(), createWriteStream(to, { flags: 'wx', mode: 0o600 }), { signal });
}

/**
 * Decompresses `from` into `to` (a new file, 0600), or copies it when it is
 * not gzip; a gzip stream that is cut short or corrupt is DUMP_INVALID.
 */
export async function gunzipFile(from: string, to: string, format: string, options: { gzip: boolean; signal?: AbortSignal }): Promise<void> {
  const output = createWriteStream(to, { flags: 'wx', mode: 0o600 });
  try {
    if (options.gzip) await pipeline(createReadStream(from), createGunzip(), output, { signal: options.signal });
    else await pipeline(createReadStream(from), output, { signal: options.signal });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || code === 'ERR_ZLIB') throw dumpInvalid(from, format, `gzip says "${(error as Error).message}"`);
    throw error;
  }
}

/** Runs tar with an argv (never a shell); resolves with its stdout; a failure carries its last words. `okCodes`: exits that are not failures. */
export function runTar(args: string[], options: { signal?: AbortSignal; okCodes?: number[] } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, signal: options.signal });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', (error) => {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(missing ? new PaasmakerError('SERVICE_BINARY_MISSING', 'tar is not installed', { hint: 'install it: sudo apt-get install tar (brew install gnu-tar)' }) : error);
    });
    child.on('close', (code, signal) => {
      if (code !== null && (code === 0 || (options.okCodes ?? []).includes(code))) resolve(out);
      else reject(new TarFailure(signal ? `tar was stopped by ${signal}` : `tar exited with code ${code}`, err.trim().split('\n').slice(-3).join('; ')));
    });
  });
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
