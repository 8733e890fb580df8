import { timingSafeEqual } from 'node:crypto';
import type { SMTPServer } from 'smtp-server';
import { z } from 'zod';
import { PaasmakerError } from '../../shared/errors.js';
import { DEFAULT_KEEP, dropService, MailStore, recordedPort, recordPort } from '../mail-store.js';
import { forgetPassword, resourceName, servicePassword } from '../names.js';
import type { Credentials, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';

/** The largest message taken; a larger one is refused with 552 and its size. */
export const MAIL_SIZE_LIMIT = 25 * 1024 * 1024;

const HOST = '127.0.0.1';

/** The mail service's options: `password: false` (no AUTH needed), `keep: N` messages. */
export const MAIL_OPTIONS = z.object({
  password: z.boolean().optional().describe('false: the app is given no password and sends without AUTH (default: a random password, AUTH required)'),
  keep: z.number().int().min(1).max(100_000).optional().describe(`how many messages to keep; the oldest go first (default ${DEFAULT_KEEP})`),
});

/** What a mail service's server asks and keeps: the password AUTH must give (none: no AUTH needed), how many messages. */
interface Rules {
  password: string | undefined;
  keep: number;
}

/** One mail service's SMTP server, in the platform's process. */
interface Listener {
  server: SMTPServer;
  port: number;
  rules: Rules;
}

/** A login's password against the service's, in constant time. */
function samePassword(given: string | null | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** An error an SMTP client is answered with (smtp-server reads responseCode). */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The folder name of a service's messages: the service, with its branch when it has one per branch. */
const storeName = (request: ServiceRequest) => (request.branch ? `${request.service}@${resourceName({ app: '', service: request.branch, branch: '' })}` : request.service);

/**
 * The mail catcher: an SMTP server per mail service, on 127.0.0.1, that takes
 * every message the app sends, delivers none, and keeps them under
 * PAASMAKER_HOME/mail/<app>/<service>/ (a message is known to be the app's by
 * the port it came to). AUTH PLAIN or LOGIN without TLS (loopback only; no
 * STARTTLS), required when the app was given a password.
 */
export function mailPlugin(context: ServiceContext): ServicePlugin {
  const store = MailStore.of(context.home);
  const listeners = new Map<string, Promise<Listener>>();
  const keyOf = (request: ServiceRequest) => `${request.app}/${storeName(request)}`;

  async function listen(request: ServiceRequest, rules: Rules): Promise<Listener> {
    const { SMTPServer } = await import('smtp-server');
    const app = request.app;
    const service = storeName(request);
    const server = new SMTPServer({
      name: 'paasmaker.localhost',
      banner: `Paasmaker mail catcher for ${app}: messages are kept, never delivered`,
      logger: false,
      secure: false,
      disabledCommands: ['STARTTLS'],
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      authOptional: rules.password === undefined,
      disableReverseLookup: true,
      size: MAIL_SIZE_LIMIT,
      closeTimeout: 2000,
      onAuth(auth, _session, callback) {
        // With no password any login is taken: an app that always logs in still sends.
        if (rules.password === undefined || (auth.username === app && samePassword(auth.password, rules.password))) return callback(null, { user: auth.username });
        callback(smtpError(535, '5.7.8 Authentication credentials invalid: use SMTP_USER and SMTP_PASSWORD'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => {
          if (!stream.sizeExceeded) chunks.push(chunk);
        });
        stream.once('end', () => {
          if (stream.sizeExceeded) return callback(smtpError(552, `5.3.4 Message too big: the mail catcher takes at most ${MAIL_SIZE_LIMIT / 1024 / 1024} MB`));
          const envelope = { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((rcpt) => rcpt.address) };
          store.add(app, service, Buffer.concat(chunks), envelope, rules.keep).then(
            (row) => {
              context.emit?.('mail.received', { app, service, id: row.id, subject: row.subject, from: row.from });
              // A line where `up` prints the platform's own: what was sent stays for those who may read mail.
              context.say(`${app}/${service} caught a message: paasmaker mail show ${row.id} ${app}`);
              callback(null, `Caught as ${row.id}: paasmaker mail show ${row.id}`);
            },
            (error: Error) => callback(smtpError(451, `4.3.0 The mail catcher could not keep the message: ${error.message}`)),
          );
        });
      },
    });
    // Said once it listens (a port taken before then is answered below); a listener must be there from the start, or an error would throw.
    let listening = false;
    server.on('error', (error: Error) => listening && context.say(`mail catcher of ${app}/${service}: ${error.message}`));
    // The port it had before, when it is free; else one the kernel picks (bound at once: no race for it).
    const listenOn = (port: number) =>
      new Promise<number>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        server.server.once('error', onError);
        server.listen(port, HOST, () => {
          server.server.off('error', onError);
          resolve((server.server.address() as { port: number }).port);
        });
      });
    const before = recordedPort(store, app, service);
    let port: number | undefined;
    if (before !== undefined) port = await listenOn(before).catch(() => undefined);
    port ??= await listenOn(0).catch((error: Error) => {
      throw new PaasmakerError('SERVICE_FAILED', `the mail catcher of ${app}/${service} could not listen on ${HOST}: ${error.message}`);
    });
    if (port !== before) recordPort(store, app, service, port);
    listening = true;
    return { server, port, rules };
  }

  function close(listener: Listener): Promise<void> {
    return new Promise((resolve) => listener.server.close(() => resolve()));
  }

  return {
    name: 'mail',
    summary: 'a mail catcher: an SMTP server that keeps what the app sends and delivers nothing (paasmaker mail)',
    kind: 'mail',
    urlVariable: 'MAIL_URL',
    async provision(request): Promise<Credentials> {
      const options = MAIL_OPTIONS.parse(request.options);
      const password = options.password === false ? undefined : servicePassword(context.home, 'mail', resourceName(request));
      const keep = options.keep ?? DEFAULT_KEEP;
      const key = keyOf(request);
      let running = await listeners.get(key)?.catch(() => undefined);
      if (running && running.rules.password !== password) {
        // The manifest changed whether AUTH is needed: the same port, the new rule.
        listeners.delete(key);
        await close(running);
        running = undefined;
      }
      if (!running) {
        const starting = listen(request, { password, keep });
        listeners.set(key, starting);
        starting.catch(() => listeners.delete(key));
        running = await starting;
      }
      running.rules.keep = keep;
      const user = password === undefined ? undefined : request.app;
      const credentials = user === undefined ? '' : `${encodeURIComponent(user)}:${encodeURIComponent(password!)}@`;
      return { protocol: 'smtp', hostname: HOST, port: running.port, username: user, password, url: `smtp://${credentials}${HOST}:${running.port}` };
    },
    async destroy(request) {
      const key = keyOf(request);
      const running = await listeners.get(key)?.catch(() => undefined);
      listeners.delete(key);
      if (running) await close(running);
      dropService(store, request.app, storeName(request));
      forgetPassword(context.home, 'mail', resourceName(request));
    },
    async stop() {
      const all = await Promise.all([...listeners.values()].map((listener) => listener.catch(() => undefined)));
      listeners.clear();
      await Promise.all(all.filter((listener): listener is Listener => listener !== undefined).map(close));
    },
  };
}
