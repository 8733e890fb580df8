import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Platform } from '../engine/index.js';
import { isPaasmakerError, PaasmakerError } from '../shared/errors.js';

/** Where the `paasmaker up` with this pid listens for commands from other terminals. */
export function controlSocketPath(runDir: string, pid: number): string {
  return join(runDir, `up-${pid}.sock`);
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function reply(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/**
 * A running `paasmaker up` takes commands (scale, restart) from other
 * terminals on a Unix socket only its user can open: run/up-<pid>.sock.
 * JSON over HTTP, the same shape the daemon's API will serve.
 */
export async function startControlServer(platform: Platform, runDir: string): Promise<{ path: string; close: () => Promise<void> }> {
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const path = controlSocketPath(runDir, process.pid);
  rmSync(path, { force: true });
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const match = /^\/v1\/apps\/([^/]+)\/(scale|restart)$/.exec(req.url ?? '');
        if (req.method !== 'POST' || !match) return reply(res, 404, { error: 'not found' });
        const app = decodeURIComponent(match[1]!);
        const input = await body(req);
        if (match[2] === 'scale') {
          const result = await platform.scale(app, String(input.instance), Number(input.quantity));
          return reply(res, 200, result);
        }
        const ok = await platform.reload(app, { instances: typeof input.instance === 'string' ? [input.instance] : undefined, reason: 'paasmaker restart' });
        return reply(res, ok ? 200 : 409, { ok });
      } catch (error) {
        if (isPaasmakerError(error)) return reply(res, 400, { error: error.message, code: error.code, hint: error.hint });
        return reply(res, 500, { error: String(error) });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        rmSync(path, { force: true });
      }),
  };
}

/** Sends one command to the `up` that runs an app. */
export function sendControl(path: string, route: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(input);
    const req = request({ socketPath: path, path: route, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let answer = '';
      res.on('data', (chunk) => (answer += chunk));
      res.on('end', () => {
        const value = JSON.parse(answer || '{}') as Record<string, unknown>;
        if ((res.statusCode ?? 500) >= 400 && value.error) reject(new PaasmakerError('USAGE', String(value.error), { hint: value.hint ? String(value.hint) : undefined }));
        else resolve(value);
      });
    });
    req.on('error', (error) => reject(new PaasmakerError('APP_NOT_FOUND', `could not reach the paasmaker up that runs it: ${error.message}`)));
    req.end(text);
  });
}
