import { createReadStream, createWriteStream, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
// The engine's light contract module (no engine code loads with it): a client stays quick to start.
import { isEventName, type PlatformEventArgs } from '../engine/events.js';
import { isErrorCode, PaasmakerError } from '../shared/errors.js';
import { ownerAlive } from '../shared/owner.js';

/** daemon.json: where the running daemon is. */
export interface DaemonRecord {
  pid: number;
  startTime: string;
  socket: string;
  proxyPort: number | null;
  /** The router's https port; null without TLS (absent in the record of an older daemon). */
  tlsPort?: number | null;
  apiPort: number | null;
  startedAt: number;
}

export const daemonFile = (home: string) => join(home, 'daemon.json');
export const daemonSocket = (home: string) => join(home, 'paasmaker.sock');
/** Where a foreground `paasmaker up` serves the same API for its own app. */
export const upSocket = (home: string, pid: number) => join(home, 'run', `up-${pid}.sock`);

/** Where to ask the paasmaker process with this pid: the daemon's socket if it is the daemon, else that `up`'s. */
export function apiSocketFor(home: string, ownerPid: number): string {
  const daemon = runningDaemon(home);
  return daemon && daemon.pid === ownerPid ? daemon.socket : upSocket(home, ownerPid);
}

/** The running daemon, or undefined (a daemon.json left by a dead one does not count). */
export function runningDaemon(home: string): DaemonRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(daemonFile(home), 'utf8')) as DaemonRecord;
    return ownerAlive(record.pid, record.startTime) && existsSync(record.socket) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Nothing answers at this socket: no platform runs there (or one was killed and left its socket). */
export function unreachable(socketPath: string, reason: string): PaasmakerError {
  return new PaasmakerError('PLATFORM_UNREACHABLE', `no Paasmaker answers at ${socketPath} (${reason}): neither the daemon nor a paasmaker up is running there`);
}

/**
 * An API error answer as the PaasmakerError the server threw: the same code
 * (any code of the shared table), message, hint and detail. A code this
 * client does not know (a newer server's) becomes API_ERROR, which exits 1.
 */
export function apiError(status: number | undefined, value: Record<string, unknown>): PaasmakerError {
  const message = typeof value.error === 'string' ? value.error : `HTTP ${status ?? '?'}`;
  const options = { hint: typeof value.hint === 'string' ? value.hint : undefined, detail: typeof value.detail === 'string' ? value.detail : undefined };
  if (isErrorCode(value.code)) return new PaasmakerError(value.code, message, options);
  return new PaasmakerError('API_ERROR', typeof value.code === 'string' ? `${message} (${value.code})` : message, options);
}

/** An answer of the API, read whole: its parsed JSON, or the PaasmakerError it carries (`socketPath`: where it came from, for messages). */
export function readAnswer<T>(socketPath: string, res: IncomingMessage, resolve: (value: T) => void, reject: (error: PaasmakerError) => void): void {
  let answer = '';
  res.on('error', (error) => reject(new PaasmakerError('PLATFORM_UNREACHABLE', `Paasmaker at ${socketPath} went away mid-answer: ${error.message}`, { hint: 'is it still running? paasmaker daemon status' })));
  res.on('data', (chunk) => (answer += chunk));
  res.on('end', () => {
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(answer || '{}') as Record<string, unknown>;
    } catch {
      reject(new PaasmakerError('API_ERROR', `what answers at ${socketPath} is not Paasmaker's API: HTTP ${res.statusCode} with something that is not JSON`));
      return;
    }
    if ((res.statusCode ?? 500) >= 400) reject(apiError(res.statusCode, value));
    else resolve(value as T);
  });
}

/** A request that could not be made or got no answer, as the PaasmakerError a command reports. */
function requestFailed(socketPath: string, error: NodeJS.ErrnoException, timeoutMs: number, timedOut: boolean): PaasmakerError {
  if (timedOut) return unreachable(socketPath, `no answer in ${timeoutMs / 1000} s`);
  if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT' || error.code === 'ECONNRESET') return unreachable(socketPath, error.code);
  return new PaasmakerError('PLATFORM_UNREACHABLE', `could not reach Paasmaker at ${socketPath}: ${error.message}`);
}

/** One API call over a Unix socket; API errors become PaasmakerErrors with their code and hint. */
export function callApi<T = unknown>(socketPath: string, method: string, path: string, body?: unknown, timeoutMs = 600_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    let timedOut = false;
    const req = request(
      { socketPath, path, method, headers: { host: 'localhost', ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}) }, timeout: timeoutMs },
      (res) => readAnswer(socketPath, res, resolve, reject),
    );
    req.on('timeout', () => {
      timedOut = true;
      req.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => reject(requestFailed(socketPath, error, timeoutMs, timedOut)));
    req.end(text);
  });
}

/**
 * POSTs a file as the body of an API call over a Unix socket, streamed (never
 * read whole), with its Content-Type; the answer as callApi gives it. An
 * answer that comes before the whole file was sent (a refusal) stops the
 * sending and is the result.
 */
export function postFile<T = unknown>(socketPath: string, path: string, file: string, contentType: string, timeoutMs = 600_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch (error) {
      reject(new PaasmakerError('USAGE', `cannot read ${file}: ${(error as Error).message}`));
      return;
    }
    let timedOut = false;
    let answered = false;
    const body = createReadStream(file);
    const req = request({ socketPath, path, method: 'POST', headers: { host: 'localhost', 'content-type': contentType, 'content-length': size }, timeout: timeoutMs }, (res) => {
      answered = true;
      body.unpipe(req);
      body.destroy();
      readAnswer(socketPath, res, resolve, reject);
    });
    body.on('error', (error) => {
      req.destroy();
      reject(new PaasmakerError('USAGE', `cannot read ${file}: ${error.message}`));
    });
    req.on('timeout', () => {
      timedOut = true;
      req.destroy();
    });
    // Once an answer came, a write the platform no longer reads is not the outcome: the answer is.
    req.on('error', (error: NodeJS.ErrnoException) => answered || reject(requestFailed(socketPath, error, timeoutMs, timedOut)));
    body.pipe(req);
  });
}

/**
 * GETs a file the API answers (a dump) over a Unix socket into `to`, a new
 * file of mode 0600, streamed (never held whole); resolves with its size. An
 * error answer is the PaasmakerError it carries; a file cut short is removed.
 */
export function downloadFile(socketPath: string, path: string, to: string, timeoutMs = 600_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const req = request({ socketPath, path, method: 'GET', headers: { host: 'localhost' }, timeout: timeoutMs }, (res) => {
      if ((res.statusCode ?? 500) >= 400 || !String(res.headers['content-type']).startsWith('application/octet-stream')) {
        readAnswer(socketPath, res, () => reject(new PaasmakerError('API_ERROR', `${path} answered no file`)), reject);
        return;
      }
      const expected = Number(res.headers['content-length']);
      const output = createWriteStream(to, { flags: 'wx', mode: 0o600 });
      const failed = (error: Error) => {
        output.destroy();
        rmSync(to, { force: true });
        reject(new PaasmakerError('PLATFORM_UNREACHABLE', `the download of ${path} stopped: ${error.message}`, { hint: 'is Paasmaker still running? paasmaker daemon status' }));
      };
      output.on('error', (error) => {
        res.destroy();
        rmSync(to, { force: true });
        reject(new PaasmakerError('USAGE', `cannot write ${to}: ${error.message}`));
      });
      res.on('error', failed);
      res.on('aborted', () => failed(new Error('the connection closed')));
      output.on('finish', () => {
        const size = statSync(to).size;
        if (Number.isFinite(expected) && size !== expected) failed(new Error(`${size} of ${expected} bytes arrived`));
        else resolve(size);
      });
      res.pipe(output);
    });
    req.on('timeout', () => {
      timedOut = true;
      req.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => reject(requestFailed(socketPath, error, timeoutMs, timedOut)));
    req.end();
  });
}

/**
 * Follows /api/v1/events (Server-Sent Events): each event's name and parsed
 * data to onEvent; `app` keeps one app's events, `attach` holds the app (it
 * stops when this stream closes); `onOpen` is called once the stream is
 * open (every event from then on comes). Destroy the returned request to leave.
 */
export function followEvents(
  socketPath: string,
  options: { app?: string; attach?: boolean; onOpen?: () => void },
  onEvent: (...event: PlatformEventArgs) => void,
  onClose: () => void = () => {},
): ReturnType<typeof request> {
  const query = options.app ? `?app=${encodeURIComponent(options.app)}${options.attach ? '&attach=1' : ''}` : '';
  const stream = request({ socketPath, path: `/api/v1/events${query}`, headers: { host: 'localhost' } }, (res) => {
    options.onOpen?.();
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.+)$/m.exec(frame)?.[1];
        const data = /^data: (.+)$/m.exec(frame)?.[1];
        if (!event || !data || !isEventName(event)) continue;
        let payload: unknown;
        try {
          payload = JSON.parse(data);
        } catch {
          // A frame that is not JSON is not an event: skip it, follow the rest.
          continue;
        }
        // The engine's own event, as the server wrote it: its payload is the engine's type for that name.
        onEvent(...([event, payload] as PlatformEventArgs));
      }
    });
    res.on('error', () => undefined);
    res.once('close', onClose);
  });
  stream.on('error', onClose);
  stream.end();
  return stream;
}
