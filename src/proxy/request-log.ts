import { rawFields, type RequestHead, type ResponseHead } from './http1.js';
import type { Page } from './pages.js';

/** Requests kept per app unless told otherwise. */
export const REQUEST_LOG_SIZE = 300;
/** What a record keeps of the two heads, at most: the request's first (up to REQUEST_BYTES), the answer's in the rest. */
const SLOT_BYTES = 4096;
const REQUEST_BYTES = 3072;
/** A slot's bytes grow in steps of this: most pairs of heads take a few hundred bytes, not the 4 KB a slot may keep. */
const SLOT_STEP = 512;

/** Header values never shown in the clear: they carry credentials (the usual ones, and any whose name says so). */
const SECRET_HEADERS = new Set(['cookie', 'authorization', 'proxy-authorization', 'set-cookie']);
const SECRET_NAME = /token|secret|key|passw|auth|session|csrf|signature|credential/i;
export const REDACTED = '[redacted]';

const isSecretHeader = (name: string) => SECRET_HEADERS.has(name.toLowerCase()) || SECRET_NAME.test(name);

/** A path whose query parameters named like credentials (?token=, ?api_key=) have their values redacted. */
function redactedPath(path: string): string {
  const query = path.indexOf('?');
  if (query < 0) return path;
  return path.slice(0, query) + path.slice(query).replace(/([?&;]([^=&;#]*)=)([^&;#]*)/g, (whole, head: string, name: string) => (SECRET_NAME.test(decodeURIComponentSafe(name)) ? `${head}${REDACTED}` : whole));
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** One request as the request inspector shows it: headers redacted, no body. */
export interface RequestRecord {
  /** Increases with every request the router records (across apps): a stable handle, and where `since` resumes. */
  id: number;
  /** When the request head arrived, ISO (UTC, milliseconds). */
  time: string;
  app: string;
  /** The instance type the hostname leads to. */
  instance: string;
  /** The process that answered, or the last one tried ("web.0", "web:static"); null when none was. */
  upstream: string | null;
  method: string;
  /** Path and query, as sent to the app. */
  path: string;
  /** The status the client got; null when it got no answer. */
  status: number | null;
  durationMs: number;
  /** Body bytes from the client and to it (heads not counted). */
  bytesIn: number;
  bytesOut: number;
  /** The client's address. */
  client: string;
  /** Who answered: the app, the router itself (an error page), or nobody (the client left, a connection broke). */
  answeredBy: 'app' | 'router' | 'none';
  /** Why the app did not answer, when it did not: what the router told the client, or what went wrong. */
  error: string | null;
  /** As the client sent them, Cookie/Authorization/Proxy-Authorization values redacted. */
  requestHeaders: Array<[name: string, value: string]>;
  /** As the client got them (the app's, before hop-by-hop ones were dropped, or the router's page's), Set-Cookie values redacted. */
  responseHeaders: Array<[name: string, value: string]>;
  /** The heads were longer than a record keeps (4 KB together): the headers are the first ones, the last one perhaps cut. */
  truncated: boolean;
}

/** What the router hands over when a request ends: references, nothing copied. */
export interface FinishedRequest {
  readonly head: RequestHead;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly upstream: string | undefined;
  readonly response: ResponseHead | undefined;
  readonly page: Page | undefined;
  readonly detail: string | undefined;
}

/**
 * One slot of a ring, overwritten in place when the ring comes round, so
 * recording allocates nothing once the ring is full. The heads are copied,
 * as the parser read them, into bytes the slot owns: keeping the parser's
 * strings instead would keep every request's heads alive across garbage
 * collections (in the daemon's small young generation, that copying and
 * promoting cost more than the rest of recording). The bytes are as many
 * as the largest heads the slot held needed (in 512-byte steps), not the
 * 4 KB it may keep: 300 slots for each of 20 apps would hold 23 MB
 * otherwise. Fields are split, redacted and formatted only when someone reads.
 */
class Slot {
  id = 0;
  /** Epoch ms the request arrived (the wall clock, as the app's logs have it: a monotonic clock stops while a laptop sleeps). */
  time = 0;
  durationMs = 0;
  instance = '';
  /** The request head (from byte 0) and the response head (after it), latin1 as read. */
  bytes = EMPTY;
  requestLength = 0;
  /** -1: no response head. */
  responseLength = -1;
  truncated = false;
  /** The path the app got, kept only when it cannot be read back from the request line (an absolute-form target, a cut line). */
  path: string | undefined = undefined;
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  client = '';
  upstream: string | undefined = undefined;
  page: Page | undefined = undefined;
  detail: string | undefined = undefined;
}

const EMPTY = Buffer.alloc(0);

/** The last `size` requests of one app, oldest overwritten first. */
class Ring {
  readonly slots: Slot[] = [];
  /** Where the next request goes. */
  private next = 0;
  /** The newest request's id (0: none yet). */
  lastId = 0;

  constructor(
    readonly app: string,
    private readonly size: number,
  ) {}

  take(): Slot {
    let slot = this.slots[this.next];
    if (!slot) this.slots.push((slot = new Slot()));
    this.next = this.next + 1 === this.size ? 0 : this.next + 1;
    return slot;
  }

  /** Slots oldest first. */
  ordered(): Slot[] {
    if (this.slots.length < this.size) return this.slots;
    return this.next === 0 ? this.slots : [...this.slots.slice(this.next), ...this.slots.slice(0, this.next)];
  }
}

/** Which of an app's requests to read. */
export interface RequestFilter {
  /** Only requests after this id. */
  sinceId?: number;
  /** Only requests that arrived at or after this time (epoch ms). */
  sinceTime?: number;
  /** An exact status (404), or a class: 2 for 2xx … 5 for 5xx; 0 for requests that got no answer. */
  status?: { exact: number } | { class: number };
  /** Only paths containing this. */
  path?: string;
  /** The newest this many (after the other filters). */
  limit?: number;
}

/**
 * The router's request inspector: the last few hundred requests of each app,
 * in memory only (4 KB a request at most). Recording copies the heads the
 * router read into a slot reused in place, and a few numbers; headers are
 * split and redacted, times formatted, only when a record is read.
 */
export class RequestLog {
  private readonly rings = new Map<string, Ring>();
  private lastId = 0;

  constructor(readonly size = REQUEST_LOG_SIZE) {}

  record(app: string, instance: string, client: string, request: FinishedRequest, durationMs: number): void {
    let ring = this.rings.get(app);
    if (!ring) this.rings.set(app, (ring = new Ring(app, this.size)));
    const slot = ring.take();
    slot.id = ring.lastId = ++this.lastId;
    slot.time = Date.now() - durationMs;
    slot.durationMs = durationMs;
    slot.instance = instance;
    const head = request.head;
    const raw = head.raw;
    const requestLength = raw.length < REQUEST_BYTES ? raw.length : REQUEST_BYTES;
    const response = request.response?.raw;
    const room = SLOT_BYTES - requestLength;
    const responseLength = response === undefined ? -1 : response.length < room ? response.length : room;
    const need = requestLength + (responseLength < 0 ? 0 : responseLength);
    if (slot.bytes.length < need) slot.bytes = Buffer.allocUnsafeSlow(Math.min(SLOT_BYTES, Math.ceil(need / SLOT_STEP) * SLOT_STEP));
    slot.bytes.write(raw, 0, requestLength, 'latin1');
    slot.requestLength = requestLength;
    let truncated = requestLength < raw.length;
    // Method and path are read back from the request line, unless it was not what the app got or it was cut.
    slot.path = head.path === head.target && (!truncated || lineKept(raw, requestLength)) ? undefined : head.path;
    slot.responseLength = responseLength;
    if (response !== undefined) {
      slot.bytes.write(response, requestLength, responseLength, 'latin1');
      truncated ||= responseLength < response.length;
    }
    slot.truncated = truncated;
    slot.status = request.status;
    slot.bytesIn = request.bytesIn;
    slot.bytesOut = request.bytesOut;
    slot.client = client;
    slot.upstream = request.upstream;
    slot.page = request.page;
    slot.detail = request.detail;
  }

  /** The apps with recorded requests. */
  apps(): string[] {
    return [...this.rings.keys()];
  }

  /** The id of an app's newest request (0: none). */
  lastIdOf(app: string): number {
    return this.rings.get(app)?.lastId ?? 0;
  }

  /** An app's requests, oldest first, as records. */
  list(app: string, filter: RequestFilter = {}): RequestRecord[] {
    const ring = this.rings.get(app);
    if (!ring) return [];
    const sinceId = filter.sinceId ?? 0;
    const sinceTime = filter.sinceTime ?? -Infinity;
    const matching = ring.ordered().filter((slot) => slot.id > sinceId && slot.time >= sinceTime && statusMatches(slot.status, filter.status) && (filter.path === undefined || redactedPath(pathOf(slot, requestText(slot))).includes(filter.path)));
    const kept = filter.limit === undefined ? matching : matching.slice(-filter.limit);
    return kept.map((slot) => view(app, slot));
  }
}

/** Whether a cut request head still holds its whole request line. */
function lineKept(raw: string, kept: number): boolean {
  const end = raw.indexOf('\r\n');
  return end !== -1 && end <= kept;
}

const requestText = (slot: Slot) => slot.bytes.toString('latin1', 0, slot.requestLength);

/** The path the app got: the request line's target unless the slot kept it apart. */
function pathOf(slot: Slot, requestHead: string): string {
  if (slot.path !== undefined) return slot.path;
  const start = requestHead.indexOf(' ') + 1;
  const lineEnd = requestHead.indexOf('\r\n');
  return requestHead.slice(start, requestHead.lastIndexOf(' ', lineEnd === -1 ? requestHead.length : lineEnd));
}

function statusMatches(status: number, wanted: RequestFilter['status']): boolean {
  if (!wanted) return true;
  if ('exact' in wanted) return status === wanted.exact;
  return wanted.class === 0 ? status === 0 : Math.floor(status / 100) === wanted.class;
}

/** Copies a header list, credentials redacted. */
export function redactHeaders(headers: Iterable<readonly [string, string | number]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of headers) out.push([name, isSecretHeader(name) ? REDACTED : String(value)]);
  return out;
}

/** The fields of a head kept as read, credentials redacted, in one pass. */
function redactedFields(raw: string): Array<[string, string]> {
  const fields = rawFields(raw);
  for (const field of fields) if (isSecretHeader(field[0])) field[1] = REDACTED;
  return fields;
}

function view(app: string, slot: Slot): RequestRecord {
  const page = slot.page;
  const answeredBy = page ? 'router' : slot.status > 0 ? 'app' : 'none';
  let error: string | null = null;
  if (page) error = slot.detail ?? pageText(page);
  else if (slot.status === 0) error = slot.detail ?? 'the client closed the connection before an answer';
  else if (slot.detail) error = slot.detail;
  const requestHead = requestText(slot);
  const responseHeaders = page
    ? redactHeaders([...Object.entries(page.headers), ['content-length', Buffer.byteLength(page.body)]])
    : slot.responseLength >= 0
      ? redactedFields(slot.bytes.toString('latin1', slot.requestLength, slot.requestLength + slot.responseLength))
      : [];
  const upstream = slot.upstream === undefined ? null : slot.upstream.slice(slot.upstream.indexOf('/') + 1);
  return {
    id: slot.id,
    time: new Date(slot.time).toISOString(),
    app,
    instance: slot.instance,
    upstream,
    method: requestHead.slice(0, requestHead.indexOf(' ')),
    path: redactedPath(pathOf(slot, requestHead)),
    status: slot.status === 0 ? null : slot.status,
    durationMs: Math.round(slot.durationMs * 100) / 100,
    bytesIn: slot.bytesIn,
    bytesOut: slot.bytesOut,
    client: slot.client,
    answeredBy,
    error,
    requestHeaders: redactedFields(requestHead),
    responseHeaders,
    truncated: slot.truncated,
  };
}

/** The first line of a plain-text page the router answered with ("408 the request body stopped arriving…"). */
function pageText(page: Page): string {
  if (!page.headers['content-type']?.startsWith('text/plain')) return `the router answered ${page.status}`;
  const end = page.body.indexOf('\n');
  return end === -1 ? page.body : page.body.slice(0, end);
}
