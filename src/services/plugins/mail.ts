import { timingSafeEqual } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SMTPServer } from 'smtp-server';
import { z } from 'zod';
import { PaasmakerError } from '../../shared/errors.js';
import { DEFAULT_KEEP, MailStore, MAX_KEEP, recordedPort, recordPort } from '../mail-store.js';
import { forgetPassword, resourceName, servicePassword } from '../names.js';
import type { Credentials, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';

/** The largest message taken; a larger one is refused with 552 and its size. */
export const MAIL_SIZE_LIMIT = 25 * 1024 * 1024;

const HOST = '127.0.0.1';
/** Connections one mail service takes at once; more are answered 421 (an app's mailer needs a few). */
export const MAIL_MAX_CLIENTS = 10;

/** The mail service's options: `password: false` (no AUTH needed), `keep: N` messages. */
export const MAIL_OPTIONS = z.object({
  password: z.boolean().optional().describe('false: the app is given no password and sends without AUTH (default: a random password, AUTH required)'),
  keep: z.number().int().min(1).max(MAX_KEEP).optional().describe(`how many messages to keep; the oldest go first (default ${DEFAULT_KEEP})`),
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
  /** Set when the service is destroyed or the platform stops: a message still arriving is refused, not filed. */
  closed: boolean;
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
  store.say = context.say;
  /** The running servers; changed only inside serial(), so two provisions at once never start two. */
  const listeners = new Map<string, Listener>();
  const chains = new Map<string, Promise<unknown>>();
  const keyOf = (request: ServiceRequest) => `${request.app}/${storeName(request)}`;

  /** One service's provisions and destroys, one after another (the chain set before anything is awaited). */
  function serial<T>(key: string, work: () => Promise<T>): Promise<T> {
    const next = (chains.get(key) ?? Promise.resolve()).then(work, work);
    const settled = next.catch(() => undefined);
    chains.set(key, settled);
    void settled.then(() => chains.get(key) === settled && chains.delete(key));
    return next;
  }

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
      maxClients: MAIL_MAX_CLIENTS,
      closeTimeout: 2000,
      onAuth(auth, _session, callback) {
        // With no password any login is taken: an app that always logs in still sends.
        if (rules.password === undefined || (auth.username === app && samePassword(auth.password, rules.password))) return callback(null, { user: auth.username });
        callback(smtpError(535, '5.7.8 Authentication credentials invalid: use SMTP_USER and SMTP_PASSWORD'));
      },
      onData(stream, session, callback) {
        // Written to a file as it arrives (0600), never held in memory; past the limit the rest is read and dropped.
        const file = store.incomingFile();
        const keepWithinLimit = new Transform({ transform: (chunk: Buffer, _encoding, done) => done(null, stream.sizeExceeded ? undefined : chunk) });
        pipeline(stream, keepWithinLimit, createWriteStream(file, { mode: 0o600, flags: 'wx' })).then(
          () => {
            if (stream.sizeExceeded) {
              rmSync(file, { force: true });
              return callback(smtpError(552, `5.3.4 Message too big: the mail catcher takes at most ${MAIL_SIZE_LIMIT / 1024 / 1024} MB`));
            }
            if (listener.closed) {
              rmSync(file, { force: true });
              return callback(smtpError(421, '4.3.2 The mail service was removed: the message was not kept'));
            }
            const envelope = { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((rcpt) => rcpt.address) };
            store.add(app, service, file, envelope, listener.rules.keep).then(
              (row) => {
                context.emit?.('mail.received', { app, service, id: row.id, subject: row.subject, from: row.from });
                // A line where `up` prints the platform's own: what was sent stays for those who may read mail.
                context.say(`${app}/${service} caught a message: paasmaker mail show ${row.id} ${app}`);
                callback(null, `Caught as ${row.id}: paasmaker mail show ${row.id}`);
              },
              (error: Error) => callback(smtpError(451, `4.3.0 The mail catcher could not keep the message: ${error.message}`)),
            );
          },
          (error: Error) => {
            rmSync(file, { force: true });
            callback(smtpError(451, `4.3.0 The mail catcher could not keep the message: ${error.message}`));
          },
        );
      },
    });
    const listener: Listener = { server, port: 0, rules, closed: false };
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
    listener.port = port;
    return listener;
  }

  function close(listener: Listener): Promise<void> {
    listener.closed = true;
    return new Promise((resolve) => listener.server.close(() => resolve()));
  }

  return {
    name: 'mail',
    summary: 'a mail catcher: an SMTP server that keeps what the app sends and delivers nothing (paasmaker mail)',
    kind: 'mail',
    urlVariable: 'MAIL_URL',
    provision(request): Promise<Credentials> {
      const options = MAIL_OPTIONS.parse(request.options);
      const password = options.password === false ? undefined : servicePassword(context.home, 'mail', resourceName(request));
      const keep = options.keep ?? DEFAULT_KEEP;
      const key = keyOf(request);
      return serial(key, async () => {
        let running = listeners.get(key);
        if (running && running.rules.password !== password) {
          // The manifest changed whether AUTH is needed: the same port, the new rule.
          listeners.delete(key);
          await close(running);
          running = undefined;
        }
        if (!running) {
          store.open(request.app, storeName(request));
          running = await listen(request, { password, keep });
          listeners.set(key, running);
        }
        running.rules.keep = keep;
        const user = password === undefined ? undefined : request.app;
        const credentials = user === undefined ? '' : `${encodeURIComponent(user)}:${encodeURIComponent(password!)}@`;
        return { protocol: 'smtp', hostname: HOST, port: running.port, username: user, password, url: `smtp://${credentials}${HOST}:${running.port}` };
      });
    },
    destroy(request) {
      const key = keyOf(request);
      return serial(key, async () => {
        const running = listeners.get(key);
        listeners.delete(key);
        if (running) await close(running);
        // After the messages still being filed: none is left behind, none recreates the folder.
        await store.drop(request.app, storeName(request));
        forgetPassword(context.home, 'mail', resourceName(request));
      });
    },
    async stop() {
      await Promise.all([...chains.values()]);
      const all = [...listeners.values()];
      listeners.clear();
      await Promise.all(all.map(close));
    },
  };
}
