import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import { ownerAlive } from '../shared/owner.js';

/** daemon.json: where the running daemon is. */
export interface DaemonRecord {
  pid: number;
  startTime: string;
  socket: string;
  proxyPort: number | null;
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

/** One API call over a Unix socket; API errors become PaasmakerErrors with their hint. */
export function callApi<T = unknown>(socketPath: string, method: string, path: string, body?: unknown, timeoutMs = 600_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { socketPath, path, method, headers: { host: 'localhost', ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}) }, timeout: timeoutMs },
      (res) => {
        let answer = '';
        res.on('error', (error) => reject(new PaasmakerError('APP_NOT_FOUND', `Paasmaker at ${socketPath} went away mid-answer: ${error.message}`, { hint: 'is it running? paasmaker daemon status' })));
        res.on('data', (chunk) => (answer += chunk));
        res.on('end', () => {
          let value: Record<string, unknown>;
          try {
            value = JSON.parse(answer || '{}') as Record<string, unknown>;
          } catch {
            reject(new Error(`the API answered ${res.statusCode} with something that is not JSON`));
            return;
          }
          if ((res.statusCode ?? 500) >= 400) {
            const code = String(value.code ?? 'USAGE');
            const known = ['APP_NOT_FOUND', 'INSTANCE_NOT_FOUND', 'MANIFEST_INVALID', 'MANIFEST_NOT_FOUND', 'APP_RUNNING', 'CONFIG_INVALID', 'SERVICE_FAILED', 'PREPARE_FAILED', 'RUNTIME_MISSING', 'RUNTIME_VERSION', 'DISK_FULL', 'STATE_DAMAGED', 'STATE_UNWRITABLE'];
            reject(new PaasmakerError((known.includes(code) ? code : 'USAGE') as never, String(value.error ?? `HTTP ${res.statusCode}`), { hint: value.hint ? String(value.hint) : undefined, detail: value.detail ? String(value.detail) : undefined }));
          } else resolve(value as T);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('the API did not answer in time')));
    req.on('error', (error) => reject(new PaasmakerError('APP_NOT_FOUND', `could not reach Paasmaker at ${socketPath}: ${error.message}`, { hint: 'is it running? paasmaker daemon status' })));
    req.end(text);
  });
}

/**
 * Follows /api/v1/events (Server-Sent Events): each event's name and parsed
 * data to onEvent; `app` keeps one app's events, `attach` holds the app (it
 * stops when this stream closes). Destroy the returned request to leave.
 */
export function followEvents(
  socketPath: string,
  options: { app?: string; attach?: boolean },
  onEvent: (event: string, payload: any) => void,
  onClose: () => void = () => {},
): ReturnType<typeof request> {
  const query = options.app ? `?app=${encodeURIComponent(options.app)}${options.attach ? '&attach=1' : ''}` : '';
  const stream = request({ socketPath, path: `/api/v1/events${query}`, headers: { host: 'localhost' } }, (res) => {
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.+)$/m.exec(frame)?.[1];
        const data = /^data: (.+)$/m.exec(frame)?.[1];
        if (!event || !data) continue;
        let payload: unknown;
        try {
          payload = JSON.parse(data);
        } catch {
          // A frame that is not JSON is not an event: skip it, follow the rest.
          continue;
        }
        onEvent(event, payload);
      }
    });
    res.on('error', () => undefined);
    res.once('close', onClose);
  });
  stream.on('error', onClose);
  stream.end();
  return stream;
}
