import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PaasmakerError } from '../shared/errors.js';
import type { Upload, UploadSpec } from './route.js';

/** A Content-Type without its parameters, lower case ('' when absent). */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Whether a request to a route that takes uploads sends JSON (or no Content-Type: as every other route reads it). */
export function isJson(type: string): boolean {
  return type === '' || type === 'application/json';
}

function tooLarge(spec: UploadSpec): PaasmakerError {
  return new PaasmakerError('BODY_TOO_LARGE', `the body is over ${spec.limit} bytes, the most this endpoint takes`, { hint: 'a smaller archive (leave out node_modules, build output and other files prepare makes)' });
}

/** The refusal of a Content-Type the route takes neither as JSON nor as an upload. */
export function unsupportedType(type: string, spec: UploadSpec): PaasmakerError {
  return new PaasmakerError('UNSUPPORTED_MEDIA_TYPE', `this endpoint does not take a body of Content-Type ${JSON.stringify(type)}`, { hint: `send application/json, or a file as ${spec.types.join(', ')}` });
}

/**
 * Streams a request's body to a new file in `dir` (mode 0600), never holding
 * it in memory; refuses a declared or actual length over the limit (the
 * partial file removed). The caller removes the file once done with it.
 */
export async function receiveUpload(req: IncomingMessage, spec: UploadSpec, dir: string): Promise<Upload> {
  const type = mediaType(req.headers['content-type']);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > spec.limit) throw tooLarge(spec);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `upload-${process.pid}-${randomBytes(6).toString('hex')}`);
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > spec.limit ? tooLarge(spec) : null, chunk);
    },
  });
  try {
    // Not pipeline(req, …): on a refusal it would destroy the request's socket before the answer is written.
    const written = pipeline(counter, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    const gone = new Promise<never>((_resolve, reject) => req.once('close', () => req.complete || reject(new Error('the client went away'))));
    // Whichever settles second is not awaited: its end must not be an unhandled rejection.
    written.catch(() => undefined);
    gone.catch(() => undefined);
    req.pipe(counter);
    await Promise.race([written, gone]);
  } catch (error) {
    req.unpipe(counter);
    // The rest is read and dropped, so the refusal reaches a client still sending (it stops on the answer).
    req.resume();
    counter.destroy();
    rmSync(file, { force: true });
    if (error instanceof PaasmakerError) throw error;
    throw new PaasmakerError('INVALID_REQUEST', `the upload did not arrive whole: ${(error as Error).message}`);
  }
  return { file, type, size };
}
