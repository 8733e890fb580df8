import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import { MAIL_TEXT_KEPT, type MailMessageRow, type MailRow } from '../shared/mail-views.js';

/** Messages kept per mail service unless its `keep` option says otherwise; the oldest go first. */
export const DEFAULT_KEEP = 500;
/** The most messages a mail service may keep: its index is read whole on every listing. */
export const MAX_KEEP = 5000;
/** The folder (under PAASMAKER_HOME/mail) where a message being received is written before it is filed. */
const INCOMING = '.incoming';

/** An app's or a service's name as a folder: the manifest's rules already, checked again before it reaches a path. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,200}$/;
/** What an id looks like (8 hex digits): anything else is no message of ours. */
const ID = /^[0-9a-f]{8}$/;

function safe(name: string, what: string): string {
  if (!SAFE_NAME.test(name) || name.includes('..')) throw new PaasmakerError('INVALID_REQUEST', `"${name}" is not a valid ${what} name`);
  return name;
}

type Attachment = MailMessageRow['attachments'][number];

/**
 * One entry of a service's index.json: the list's row without app and
 * service, and what the detail view shows without parsing the message again
 * (whether it has HTML, its attachments; absent in an index rebuilt from the
 * messages' headers).
 */
type Entry = Omit<MailRow, 'app' | 'service'> & { html?: boolean; parts?: Attachment[] };

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
  private static readonly stores = new Map<string, MailStore>();
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Services destroyed while a message was on its way: it is refused, not filed into a folder that is gone. */
  private readonly dropped = new Set<string>();
  /** Where a line for the user goes (an index rebuilt); the mail plugin points it at the platform's output. */
  say: (line: string) => void = (line) => process.stderr.write(`${line}\n`);

  constructor(readonly root: string) {}

  /** PAASMAKER_HOME/mail: one store per home in a process, so that the plugin and the API share its write queues. */
  static of(home: string): MailStore {
    const root = resolve(home, 'mail');
    let store = MailStore.stores.get(root);
    if (!store) MailStore.stores.set(root, (store = new MailStore(root)));
    return store;
  }

  private dir(app: string, service?: string): string {
    return service === undefined ? join(this.root, safe(app, 'app')) : join(this.root, safe(app, 'app'), safe(service, 'service'));
  }

  /** A service's index as it is on disk; 'torn' when it cannot be read (a full disk, a hand edit). */
  private readIndex(app: string, service: string): Entry[] | 'torn' {
    const file = join(this.dir(app, service), 'index.json');
    if (!existsSync(file)) return [];
    try {
      const entries = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      return Array.isArray(entries) ? (entries as Entry[]) : 'torn';
    } catch {
      return 'torn';
    }
  }

  /** A service's index; a torn one rebuilt from its messages first (in its write queue). */
  private async index(app: string, service: string): Promise<Entry[]> {
    const entries = this.readIndex(app, service);
    return entries !== 'torn' ? entries : this.queued(`${app}/${service}`, () => this.indexInQueue(app, service));
  }

  /** The index, from inside the service's write queue: a torn one is rebuilt from the .eml files' headers, and said so. */
  private async indexInQueue(app: string, service: string): Promise<Entry[]> {
    const entries = this.readIndex(app, service);
    if (entries !== 'torn') return entries;
    const dir = this.dir(app, service);
    const files = readdirSync(dir).filter((name) => ID.test(name.replace(/\.eml$/, '')) && name.endsWith('.eml'));
    const rebuilt: Array<Entry & { at: number }> = [];
    for (const name of files) {
      const file = join(dir, name);
      const stat = statSync(file);
      const headers = await parseHeaders(file);
      rebuilt.push({ id: name.slice(0, -4), time: stat.mtime.toISOString(), at: stat.mtimeMs, size: stat.size, attachments: 0, text: '', ...headers });
    }
    rebuilt.sort((a, b) => a.at - b.at);
    const index = rebuilt.map(({ at: _at, ...entry }) => entry);
    this.writeIndex(app, service, index);
    this.say(`mail of ${app}/${service}: its index.json could not be read; rebuilt from the ${index.length} message(s) in ${dir}`);
    return index;
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

  /**
   * A new file (0600) to write a message into as it arrives, under
   * PAASMAKER_HOME/mail/.incoming: add() files it, or the caller removes it.
   */
  incomingFile(): string {
    const dir = join(this.root, INCOMING);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return join(dir, `${randomBytes(8).toString('hex')}.eml`);
  }

  /** A service provisioned (again): messages for it are filed. */
  open(app: string, service: string): void {
    this.dropped.delete(`${app}/${service}`);
  }

  /**
   * Parses and files one message, written to `source` (a file of
   * incomingFile(), moved into the service's folder); beyond `keep` the
   * oldest are dropped. A message for a service destroyed meanwhile is refused.
   */
  add(app: string, service: string, source: string, envelope: Envelope, keep = DEFAULT_KEEP): Promise<MailRow> {
    const key = `${app}/${service}`;
    // Asked after a drop: refused. Asked before: filed, then dropped with the rest (the drop waits in the queue).
    const refused = this.dropped.has(key);
    return this.queued(key, async () => {
      try {
        if (refused) throw new PaasmakerError('SERVICE_NOT_FOUND', `the mail service ${key} was destroyed`);
        const parsed = await summarize(source);
        const dir = this.dir(app, service);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const entries = await this.indexInQueue(app, service);
        const taken = new Set(entries.map((entry) => entry.id));
        let id: string;
        do id = randomBytes(4).toString('hex');
        while (taken.has(id) || existsSync(join(dir, `${id}.eml`)));
        chmodSync(source, 0o600);
        renameSync(source, join(dir, `${id}.eml`));
        const entry: Entry = {
          id,
          time: new Date().toISOString(),
          from: parsed.from || envelope.from,
          to: envelope.to,
          subject: parsed.subject,
          size: statSync(join(dir, `${id}.eml`)).size,
          attachments: parsed.parts.length,
          text: parsed.text.slice(0, MAIL_TEXT_KEPT),
          html: parsed.html,
          parts: parsed.parts,
        };
        entries.push(entry);
        const dropped = entries.splice(0, Math.max(0, entries.length - Math.min(MAX_KEEP, Math.max(1, keep))));
        this.writeIndex(app, service, entries);
        for (const old of dropped) rmSync(join(dir, `${old.id}.eml`), { force: true });
        return row(entry, app, service);
      } finally {
        rmSync(source, { force: true });
      }
    });
  }

  /** An app's messages, newest first; `service`: only that service's; `limit`: the newest that many. */
  async list(app: string, service?: string, limit?: number): Promise<MailRow[]> {
    const services = service === undefined ? this.services(app) : [service];
    const indexes = await Promise.all(services.map(async (name) => ({ name, entries: await this.index(app, name) })));
    const rows = indexes
      // Each index is oldest first: reversed, two messages of one millisecond stay newest first through the (stable) sort.
      .flatMap(({ name, entries }) => entries.reverse().map((entry) => row(entry, app, name)))
      .sort((a, b) => (a.time === b.time ? 0 : a.time < b.time ? 1 : -1));
    return limit === undefined ? rows : rows.slice(0, limit);
  }

  /** The entry, service and file of one message, or a MAIL_NOT_FOUND error. */
  private async find(app: string, id: string): Promise<{ entry: Entry; service: string; file: string }> {
    if (ID.test(id)) {
      for (const service of this.services(app)) {
        const entry = (await this.index(app, service)).find((candidate) => candidate.id === id);
        const file = join(this.dir(app, service), `${id}.eml`);
        if (entry && existsSync(file)) return { entry, service, file };
      }
    }
    throw new PaasmakerError('MAIL_NOT_FOUND', `no message "${id}" for ${app}`, { hint: `paasmaker mail ${app} lists its messages` });
  }

  /** The message as the app sent it. */
  async raw(app: string, id: string): Promise<Buffer> {
    return readFileSync((await this.find(app, id)).file);
  }

  /**
   * One message, parsed once: headers, addresses, the whole text, its HTML
   * (inline cid: images as data: URLs), its attachments.
   */
  async read(app: string, id: string): Promise<MailMessageRow & { htmlBody: string | null }> {
    const { entry, service, file } = await this.find(app, id);
    const { simpleParser } = await import('mailparser');
    const parsed = await simpleParser(createReadStream(file), { skipTextLinks: true, skipTextToHtml: true });
    const addresses = (field: typeof parsed.cc) => (field === undefined ? [] : [field].flat().flatMap((group) => group.value.map((address) => (address.name ? `${address.name} <${address.address ?? ''}>` : (address.address ?? '')))));
    return {
      ...row(entry, app, service),
      headers: parsed.headerLines.map(({ line }) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim(), line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim()] as [string, string];
      }),
      cc: addresses(parsed.cc),
      date: parsed.date && Number.isFinite(parsed.date.getTime()) ? parsed.date.toISOString() : null,
      text: parsed.text ?? null,
      html: typeof parsed.html === 'string',
      htmlBody: typeof parsed.html === 'string' ? parsed.html : null,
      attachments: attachmentsOf(parsed.attachments),
    };
  }

  /** Drops an app's messages (one service's, with `service`); answers how many. */
  clear(app: string, service?: string): Promise<number> {
    const services = service === undefined ? this.services(app) : [service];
    return Promise.all(
      services.map((name) =>
        this.queued(`${app}/${name}`, async () => {
          const dir = this.dir(app, name);
          if (!existsSync(dir)) return 0;
          const entries = this.readIndex(app, name);
          const count = entries === 'torn' ? readdirSync(dir).filter((file) => file.endsWith('.eml')).length : entries.length;
          for (const file of readdirSync(dir)) if (file === 'index.json' || file.endsWith('.eml')) rmSync(join(dir, file), { force: true });
          return count;
        }),
      ),
    ).then((counts) => counts.reduce((sum, count) => sum + count, 0));
  }

  /**
   * Everything of one mail service (its messages and its port), once the
   * writes queued before have finished; a message arriving later is refused
   * until the service is provisioned again (open()).
   */
  drop(app: string, service: string): Promise<void> {
    const key = `${app}/${service}`;
    this.dropped.add(key);
    return this.queued(key, async () => {
      rmSync(this.dir(app, service), { recursive: true, force: true });
    });
  }
}

/** A list row of an index entry: what the index keeps for the detail view left out. */
function row(entry: Entry, app: string, service: string): MailRow {
  const { html: _html, parts: _parts, ...rest } = entry;
  return { ...rest, text: rest.text ?? '', app, service };
}

function attachmentsOf(attachments: Array<{ filename?: string; contentType: string; size: number }>): Attachment[] {
  return attachments.map((attachment) => ({ name: attachment.filename ?? null, type: attachment.contentType, size: attachment.size }));
}

/**
 * What the index keeps of a message, read as a stream: its attachments are
 * counted and let go, never held (simpleParser would hold them all).
 */
async function summarize(file: string): Promise<{ from: string; subject: string; text: string; html: boolean; parts: Attachment[] }> {
  const { MailParser } = await import('mailparser');
  const parser = new MailParser({ skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const summary = { from: '', subject: '', text: '', html: false, parts: [] as Attachment[] };
  const counted: Array<Promise<void>> = [];
  parser.on('headers', (headers: Map<string, unknown>) => {
    const from = headers.get('from') as { text?: string } | undefined;
    const subject = headers.get('subject');
    summary.from = from?.text ?? '';
    summary.subject = typeof subject === 'string' ? subject : '';
  });
  parser.on('data', (data: import('mailparser').AttachmentStream | import('mailparser').MessageText) => {
    if (data.type === 'text') {
      summary.text = data.text ?? '';
      summary.html = typeof data.html === 'string';
      return;
    }
    const attachment = data;
    let size = 0;
    attachment.content.on('data', (chunk: Buffer) => (size += chunk.length));
    counted.push(
      new Promise((resolve) =>
        attachment.content.once('end', () => {
          summary.parts.push({ name: attachment.filename ?? null, type: attachment.contentType, size });
          attachment.release?.();
          resolve();
        }),
      ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    const input = createReadStream(file);
    input.once('error', reject);
    parser.once('error', reject);
    parser.once('end', resolve);
    input.pipe(parser);
  });
  await Promise.all(counted);
  return summary;
}

/** From, To, Subject of a message, read from its header alone (the first 256 KB at most): what rebuilds an index. */
async function parseHeaders(file: string): Promise<Pick<Entry, 'from' | 'to' | 'subject'>> {
  const buffer = Buffer.alloc(256 * 1024);
  const fd = openSync(file, 'r');
  let length: number;
  try {
    length = readSync(fd, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(fd);
  }
  const head = buffer.subarray(0, length);
  const end = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') : head.indexOf('\n\n');
  const { simpleParser } = await import('mailparser');
  const parsed = await simpleParser(Buffer.concat([end >= 0 ? head.subarray(0, end) : head, Buffer.from('\r\n\r\n')]), { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const to = parsed.to === undefined ? [] : [parsed.to].flat().flatMap((group) => group.value.map((address) => address.address ?? '')).filter(Boolean);
  return { from: parsed.from?.text ?? '', to, subject: parsed.subject ?? '' };
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

/** A file only the owner reads, even where the umask is loose. */
function writeOwnFile(file: string, data: string | Buffer): void {
  writeFileSync(file, data, { mode: 0o600 });
  chmodSync(file, 0o600);
}
