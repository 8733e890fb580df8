import { request } from 'node:http';
import { apiError, callApi } from '../api/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { homeLayout } from '../shared/paths.js';
import { appNamed, fromPlatform } from './running-platform.js';

/** The app a mail command means: the one named, else the project in the folder. */
export function mailApp(name: string | undefined, dir: string): Promise<string> {
  return appNamed(name, dir, 'name the app (paasmaker mail APP), or run it in the project folder (-C DIR)');
}

/** An app's mail path in the API. */
export const mailPath = (app: string, rest = '') => `/api/v1/apps/${encodeURIComponent(app)}/mail${rest}`;

/**
 * Reads the mail catcher's messages from the running platform's API; when
 * none runs, from PAASMAKER_HOME itself (the messages are files there; an app
 * no platform knows is refused as the API refuses it).
 */
export function readMail<T>(path: string, offline: (store: import('../services/mail-store.js').MailStore) => T | Promise<T>, app: string): Promise<T> {
  return fromPlatform(
    (socket) => callApi<T>(socket, 'GET', path, undefined, 10_000),
    async () => offline(await offlineStore(app)),
  );
}

/** The mail catcher's messages in PAASMAKER_HOME itself, with no platform running: an app no platform knows is refused as the API refuses it. */
export async function offlineStore(app: string): Promise<import('../services/mail-store.js').MailStore> {
  const { readView } = await import('./running-platform.js');
  const known = await readView((state) => state.apps.get(app) !== undefined);
  if (!known) throw new PaasmakerError('APP_NOT_FOUND', `no app named "${app}"`, { hint: 'paasmaker ps -a lists the apps' });
  const { MailStore } = await import('../services/mail-store.js');
  return MailStore.of(homeLayout().root);
}

/** A GET of the running platform's API whose answer is not JSON (a message's HTML): the body; an error answer as callApi's. */
export function readRaw(socketPath: string, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: 'localhost' }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if ((res.statusCode ?? 500) < 400) return resolve(body);
        let value: Record<string, unknown> = {};
        try {
          value = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          // not JSON: the status says it
        }
        reject(apiError(res.statusCode, value));
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', (error) => reject(new PaasmakerError('PLATFORM_UNREACHABLE', `could not reach Paasmaker at ${socketPath}: ${error.message}`)));
    req.end();
  });
}
