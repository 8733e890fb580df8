import { request } from 'node:http';
import { callApi, readAnswer, runningDaemon, unreachable } from '../api/client.js';
import { PaasmakerError } from '../shared/errors.js';
import { homeLayout } from '../shared/paths.js';

/**
 * How the MCP server reaches /api/v1, and as whom: the platform's owner over
 * its Unix socket, or a user by API token over the daemon's TCP listener.
 * `app` names the app a call concerns: the owner's call goes to the platform
 * that runs it (the daemon, or a foreground up).
 */
export interface ApiCaller {
  call<T>(method: string, path: string, options?: { body?: unknown; app?: string; timeoutMs?: number }): Promise<T>;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

/** A user by API token, over HTTP to the API on 127.0.0.1:port (`port` given, or the running daemon's, found at every call). */
export function tokenCaller(token: string, port?: number): ApiCaller {
  return {
    call<T>(method: string, path: string, options: { body?: unknown; timeoutMs?: number } = {}): Promise<T> {
      const daemon = port === undefined ? runningDaemon(homeLayout().root) : undefined;
      const apiPort = port ?? daemon?.apiPort ?? undefined;
      if (apiPort === undefined) {
        const why = daemon ? 'the daemon serves its API on its Unix socket only' : 'no daemon runs';
        throw new PaasmakerError('PLATFORM_UNREACHABLE', `a token is used on the daemon's API port (127.0.0.1), and ${why}`, {
          hint: daemon ? 'restart it with an API port: paasmaker daemon stop, then paasmaker daemon start --api-port 7656' : 'start one with an API port: paasmaker daemon start --api-port 7656',
        });
      }
      return httpApi<T>(apiPort, token, method, path, options.body, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    },
  };
}

/** One API call over HTTP to 127.0.0.1:port with a bearer token; API errors become PaasmakerErrors with their code and hint. */
function httpApi<T>(port: number, token: string, method: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
  const where = `127.0.0.1:${port}`;
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    let timedOut = false;
    const headers = { host: where, authorization: `Bearer ${token}`, ...(text ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}) };
    const req = request({ host: '127.0.0.1', port, path, method, headers, timeout: timeoutMs, agent: false }, (res) => readAnswer(where, res, resolve, reject));
    req.on('timeout', () => {
      timedOut = true;
      req.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => reject(timedOut ? unreachable(where, `no answer in ${timeoutMs / 1000} s`) : unreachable(where, error.code ?? error.message)));
    req.end(text);
  });
}
