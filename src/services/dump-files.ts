import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { dumpWhat } from '../shared/dump-formats.js';
import { PaasmakerError } from '../shared/errors.js';

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
