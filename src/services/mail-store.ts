import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import { MAIL_TEXT_KEPT, type MailMessageRow, type MailRow } from '../shared/mail-views.js';

/** Messages kept per mail service unless its `keep` option says otherwise; the oldest go first. */
export const DEFAULT_KEEP = 500;

/** An app's or a service's name as a folder: the manifest's rules already, checked again before it reaches a path. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,200}$/;
/** What an id looks like (8 hex digits): anything else is no message of ours. */
const ID = /^[0-9a-f]{8}$/;

function safe(name: string, what: string): string {
  if (!SAFE_NAME.test(name) || name.includes('..')) throw new PaasmakerError('INVALID_REQUEST', `"${name}" is not a valid ${what} name`);
  return name;
}

/** One entry of a service's index.json: the list's row without app and service. */
type Entry = Omit<MailRow, 'app' | 'service'>;

/** The parts of a message the catcher needs to file it (the SMTP envelope's recipients). */
export interface Envelope {
  from: string;
  to: string[];
}

/**
 * The mail catcher's messages, on disk: PAASMAKER_HOME/mail/<app>/<service>/
 * holds each message as <id>.eml and index.json (id, time, from, to, subject,
 * size, attachments), newest last; folders 0700, files 0600. Writes of one
 * service are queued, so two messages at once never lose an index entry.
 */
export class MailStore {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {}

  /** PAASMAKER_HOME/mail */
  static of(home: string): MailStore {
    return new MailStore(join(home, 'mail'));
  }

  private dir(app: string, service?: string): string {
    return service === undefined ? join(this.root, safe(app, 'app')) : join(this.root, safe(app, 'app'), safe(service, 'service'));
  }

  private index(app: string, service: string): Entry[] {
    const file = join(this.dir(app, service), 'index.json');
    if (!existsSync(file)) return [];
    try {
      const entries = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      return Array.isArray(entries) ? (entries as Entry[]) : [];
    } catch {
      return []; // a torn index (a full disk): the messages are still there, the next one starts a new index
    }
  }

  private writeIndex(app: string, service: string, entries: Entry[]): void {
    const file = join(this.dir(app, service), 'index.json');
    writeOwnFile(`${file}.tmp`, JSON.stringify(entries));
    renameSync(`${file}.tmp`, file);
  }

  /** One service's writes, one after another. */
  private queued<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.queues.set(key, next.catch(() => undefined));
    return next;
  }

  /** The services of an app that have a folder here. */
  services(app: string): string[] {
    const dir = this.dir(app);
    return existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory() && SAFE_NAME.test(entry.name)).map((entry) => entry.name) : [];
  }

  /** Parses and files one message; beyond `keep` the oldest are dropped. */
  add(app: string, service: string, raw: Buffer, envelope: Envelope, keep = DEFAULT_KEEP): Promise<MailRow> {
    return this.queued(`${app}/${service}`, async () => {
      const { simpleParser } = await import('mailparser');
      const parsed = await simpleParser(raw, { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
      const dir = this.dir(app, service);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const entries = this.index(app, service);
      const taken = new Set(entries.map((entry) => entry.id));
      let id: string;
      do id = randomBytes(4).toString('hex');
      while (taken.has(id) || existsSync(join(dir, `${id}.eml`)));
      writeOwnFile(join(dir, `${id}.eml`), raw);
      const entry: Entry = {
        id,
        time: new Date().toISOString(),
        from: parsed.from?.text || envelope.from,
        to: envelope.to,
        subject: parsed.subject ?? '',
        size: raw.length,
        attachments: parsed.attachments.length,
        text: (parsed.text ?? '').slice(0, MAIL_TEXT_KEPT),
      };
      entries.push(entry);
      const dropped = entries.splice(0, Math.max(0, entries.length - Math.max(1, keep)));
      this.writeIndex(app, service, entries);
      for (const old of dropped) rmSync(join(dir, `${old.id}.eml`), { force: true });
      return { ...entry, app, service };
    });
  }

  /** An app's messages, newest first; `service`: only that service's. */
  list(app: string, service?: string): MailRow[] {
    const services = service === undefined ? this.services(app) : [service];
    return services
      // Each index is oldest first: reversed, two messages of one millisecond stay newest first through the (stable) sort.
      .flatMap((name) => this.index(app, name).reverse().map((entry) => ({ ...entry, text: entry.text ?? '', app, service: name })))
      .sort((a, b) => (a.time === b.time ? 0 : a.time < b.time ? 1 : -1));
  }

  /** The row and the file of one message, or a MAIL_NOT_FOUND error. */
  find(app: string, id: string): { row: MailRow; file: string } {
    const row = ID.test(id) ? this.list(app).find((candidate) => candidate.id === id) : undefined;
    const file = row ? join(this.dir(app, row.service), `${row.id}.eml`) : '';
    if (!row || !existsSync(file)) {
      throw new PaasmakerError('MAIL_NOT_FOUND', `no message "${id}" for ${app}`, { hint: `paasmaker mail ${app} lists its messages` });
    }
    return { row, file };
  }

  /** The message as the app sent it. */
  raw(app: string, id: string): Buffer {
    return readFileSync(this.find(app, id).file);
  }

  /** One message, parsed: headers, addresses, text, whether it has HTML, its attachments. */
  async read(app: string, id: string): Promise<MailMessageRow & { htmlBody: string | null }> {
    const { row, file } = this.find(app, id);
    const { simpleParser } = await import('mailparser');
    const parsed = await simpleParser(readFileSync(file), { skipImageLinks: true, skipTextLinks: true, skipTextToHtml: true });
    const addresses = (field: typeof parsed.cc) => (field === undefined ? [] : [field].flat().flatMap((group) => group.value.map((address) => (address.name ? `${address.name} <${address.address ?? ''}>` : (address.address ?? '')))));
    return {
      ...row,
      headers: parsed.headerLines.map(({ line }) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim(), line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim()] as [string, string];
      }),
      cc: addresses(parsed.cc),
      date: parsed.date && Number.isFinite(parsed.date.getTime()) ? parsed.date.toISOString() : null,
      text: parsed.text ?? null,
      html: typeof parsed.html === 'string',
      htmlBody: typeof parsed.html === 'string' ? parsed.html : null,
      attachments: parsed.attachments.map((attachment) => ({ name: attachment.filename ?? null, type: attachment.contentType, size: attachment.size })),
    };
  }

  /** Drops an app's messages (one service's, with `service`); answers how many. */
  clear(app: string, service?: string): Promise<number> {
    const services = service === undefined ? this.services(app) : [service];
    return Promise.all(
      services.map((name) =>
        this.queued(`${app}/${name}`, async () => {
          const dir = this.dir(app, name);
          const count = this.index(app, name).length;
          if (!existsSync(dir)) return 0;
          for (const file of readdirSync(dir)) if (file === 'index.json' || file.endsWith('.eml')) rmSync(join(dir, file), { force: true });
          return count;
        }),
      ),
    ).then((counts) => counts.reduce((sum, count) => sum + count, 0));
  }
}

/** Where a mail service listens, kept beside its messages so that a restarted platform takes the same port again. */
export function recordedPort(store: MailStore, app: string, service: string): number | undefined {
  try {
    const { port } = JSON.parse(readFileSync(join(store.root, safe(app, 'app'), safe(service, 'service'), 'listener.json'), 'utf8')) as { port?: unknown };
    return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
  } catch {
    return undefined;
  }
}

export function recordPort(store: MailStore, app: string, service: string, port: number): void {
  const dir = join(store.root, safe(app, 'app'), safe(service, 'service'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeOwnFile(join(dir, 'listener.json'), `${JSON.stringify({ port })}\n`);
}

/** Everything of one mail service: its messages and its port (paasmaker services destroy). */
export function dropService(store: MailStore, app: string, service: string): void {
  rmSync(join(store.root, safe(app, 'app'), safe(service, 'service')), { recursive: true, force: true });
}

/** A file only the owner reads, even where the umask is loose. */
function writeOwnFile(file: string, data: string | Buffer): void {
  writeFileSync(file, data, { mode: 0o600 });
  chmodSync(file, 0o600);
}
