/**
 * Just enough HTTP/1.1 to route: parse message heads and find where each body
 * ends, so the router can pass bytes through without re-encoding them.
 * Strict where laxness lets one message be read two ways (RFC 9112 §6.3, §11.2).
 */

/** Longest head accepted from a client or an app. */
export const MAX_HEAD = 64 * 1024;

export type Header = [name: string, value: string];

export interface RequestHead {
  method: string;
  /** The request target as sent: origin form (/path?q) or, from a proxy client, absolute form. */
  target: string;
  /** The target in origin form, as the app is sent it (`*` for OPTIONS *). */
  path: string;
  version: '1.0' | '1.1';
  headers: Header[];
  host: string | undefined;
  contentLength: number;
  chunked: boolean;
  /** Connection: upgrade with an Upgrade header (WebSocket). */
  upgrade: boolean;
  /** Whether the client keeps the connection after this exchange. */
  keepAlive: boolean;
  /** The head as read (request line and fields, without the blank line): one string the request inspector keeps instead of the parsed fields. */
  raw: string;
}

export interface ResponseHead {
  status: number;
  reason: string;
  version: '1.0' | '1.1';
  headers: Header[];
  /** Undefined when the body is delimited by chunks or by the connection closing. */
  contentLength: number | undefined;
  chunked: boolean;
  /** The app closes the connection after this response. */
  close: boolean;
  /** Keep-Alive: timeout=N from the app, in seconds. */
  keepAliveSeconds: number | undefined;
  /** The head as read (status line and fields, without the blank line). */
  raw: string;
}

/** A malformed message: the status to answer a client with. */
export class HttpParseError extends Error {
  constructor(
    readonly status: 400 | 408 | 431 | 501 | 505,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible characters, spaces, tabs and obs-text; never another control character.
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;
// Request targets: visible ASCII only (a URI has no raw bytes above 0x7e; browsers percent-encode them).
const BAD_TARGET = /[^\x21-\x7e]/;
/** Names a Connection header may not list: dropping them would change how a message is framed or routed. */
const UNLISTABLE = new Set(['content-length', 'transfer-encoding', 'host', 'forwarded']);

/** Trims optional whitespace (spaces and tabs, nothing else: RFC 9110 §5.6.3). */
export function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text.charCodeAt(start) === 0x20 || text.charCodeAt(start) === 0x09)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

const TOKEN_BYTES = new Uint8Array(256);
for (const char of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_BYTES[char.charCodeAt(0)] = 1;

/** Index just past the blank line that ends a head, or -1 while it is incomplete. */
export function headEnd(buffer: Buffer): number {
  const at = buffer.indexOf('\r\n\r\n', 0, 'latin1');
  return at === -1 ? -1 : at + 4;
}

function parseFields(lines: string[]): Header[] {
  const headers: Header[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const colon = line.indexOf(':');
    // No obs-fold (a line starting with whitespace), no space before the colon.
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) throw new HttpParseError(400, `bad header line: ${JSON.stringify(line.slice(0, 60))}`);
    const value = trimOws(line.slice(colon + 1));
    if (BAD_VALUE.test(value)) throw new HttpParseError(400, 'bad character in a header value');
    headers.push([line.slice(0, colon), value]);
  }
  return headers;
}

/** The fields of a head kept as read (`raw` of a parsed head, so already valid): name and value of each line after the first. */
export function rawFields(raw: string): Header[] {
  const headers: Header[] = [];
  let at = raw.indexOf('\r\n');
  while (at !== -1) {
    const start = at + 2;
    at = raw.indexOf('\r\n', start);
    const line = at === -1 ? raw.slice(start) : raw.slice(start, at);
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon), trimOws(line.slice(colon + 1))]);
  }
  return headers;
}

/** Comma-separated tokens of every header with this (lower-case) name, lower-cased. */
export function tokens(headers: Header[], name: string): string[] {
  const out: string[] = [];
  for (const [key, value] of headers) {
    if (key.length === name.length && key.toLowerCase() === name) {
      for (const token of value.split(',')) {
        const trimmed = trimOws(token).toLowerCase();
        if (trimmed) out.push(trimmed);
      }
    }
  }
  return out;
}

interface Framing {
  contentLength: number | undefined;
  chunked: boolean;
}

/** Content-Length and Transfer-Encoding, refusing the combinations that smuggle. */
function framing(headers: Header[], request: boolean): Framing {
  let contentLength: number | undefined;
  let encodings: string[] | undefined;
  for (const [key, value] of headers) {
    if (key.length === 14 && key.toLowerCase() === 'content-length') {
      // "5, 5" from a list-folding client is one length; anything else is two.
      for (const part of value.split(',')) {
        const text = trimOws(part);
        if (!/^\d{1,15}$/.test(text)) throw new HttpParseError(400, `bad Content-Length: ${JSON.stringify(value)}`);
        const length = Number(text);
        if (contentLength !== undefined && contentLength !== length) throw new HttpParseError(400, 'conflicting Content-Length headers');
        contentLength = length;
      }
    } else if (key.length === 17 && key.toLowerCase() === 'transfer-encoding') {
      encodings = [...(encodings ?? []), ...value.split(',').map((token) => trimOws(token).toLowerCase()).filter(Boolean)];
    }
  }
  if (encodings === undefined) return { contentLength, chunked: false };
  if (request) {
    if (contentLength !== undefined) throw new HttpParseError(400, 'both Content-Length and Transfer-Encoding');
    // Exactly one `chunked`: anything else (gzip, chunked twice, an unknown coding) is read differently by different servers.
    if (encodings.length === 0 || encodings.filter((coding) => coding === 'chunked').length > 1) throw new HttpParseError(400, 'bad Transfer-Encoding');
    if (encodings.length !== 1 || encodings[0] !== 'chunked') throw new HttpParseError(501, 'a request body may only be chunked');
    return { contentLength: undefined, chunked: true };
  }
  // A response whose encoding does not end in chunked runs until the connection closes.
  return { contentLength: undefined, chunked: encodings.at(-1) === 'chunked' };
}

/** Method, target and version of a request line; throws on anything that is not HTTP/1.x. */
function parseRequestLine(line: string): { method: string; target: string; version: '1.0' | '1.1' } {
  const first = line.indexOf(' ');
  const last = line.lastIndexOf(' ');
  if (first <= 0 || last === first) throw new HttpParseError(400, `not an HTTP/1.x request line: ${JSON.stringify(line.slice(0, 60))}`);
  const method = line.slice(0, first);
  const target = line.slice(first + 1, last);
  const protocol = line.slice(last + 1);
  if (!TOKEN.test(method) || target === '' || BAD_TARGET.test(target)) throw new HttpParseError(400, `bad request line: ${JSON.stringify(line.slice(0, 60))}`);
  if (protocol !== 'HTTP/1.1' && protocol !== 'HTTP/1.0') throw new HttpParseError(/^HTTP\/\d\.\d$/.test(protocol) ? 505 : 400, `unsupported protocol ${JSON.stringify(protocol.slice(0, 20))}`);
  return { method, target, version: protocol === 'HTTP/1.1' ? '1.1' : '1.0' };
}

/**
 * An absolute-form target (RFC 9112 §3.2.2): its authority is the host, and
 * the app gets the path and query in origin form. Only http and https.
 */
export function absoluteTarget(target: string): { authority: string; path: string } {
  const colon = target.indexOf(':');
  const scheme = colon > 0 ? target.slice(0, colon).toLowerCase() : '';
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new HttpParseError(400, `bad request target: ${JSON.stringify(target.slice(0, 60))}`);
  if (scheme !== 'http' && scheme !== 'https') throw new HttpParseError(400, `${scheme}: targets are not served here, only http`);
  if (!target.startsWith('//', colon + 1)) throw new HttpParseError(400, `bad request target: ${JSON.stringify(target.slice(0, 60))}`);
  const rest = target.slice(colon + 3);
  let end = rest.search(/[/?#]/);
  if (end === -1) end = rest.length;
  const authority = rest.slice(0, end);
  let path = rest.slice(end);
  if (authority === '' || authority.includes('@') || path.includes('#')) throw new HttpParseError(400, `bad request target: ${JSON.stringify(target.slice(0, 60))}`);
  if (path === '') path = '/';
  else if (path.charCodeAt(0) === 0x3f) path = `/${path}`;
  return { authority, path };
}

/**
 * Whether the start of a request head that has not ended yet can already be
 * refused: a method that is no token, a request line that is not HTTP/1.x,
 * a line ending in a bare LF. `from` is how much of buffer was checked before.
 */
export function incompleteHeadProblem(buffer: Buffer, from: number): HttpParseError | undefined {
  const lf = buffer.indexOf(0x0a);
  if (lf === -1) {
    // The method so far (a leading CR may be half of a blank line).
    for (let i = buffer[0] === 0x0d ? 1 : 0; i < buffer.length; i++) {
      const byte = buffer[i]!;
      if (byte === 0x20) return undefined;
      if (TOKEN_BYTES[byte] !== 1) return new HttpParseError(400, 'not an HTTP/1.x request');
    }
    return undefined;
  }
  if (from <= lf) {
    if (lf === 0 || buffer[lf - 1] !== 0x0d) return new HttpParseError(400, 'bare LF in a request head');
    try {
      parseRequestLine(buffer.toString('latin1', 0, lf - 1));
    } catch (error) {
      return error as HttpParseError;
    }
  }
  for (let at = buffer.indexOf(0x0a, Math.max(lf + 1, from)); at !== -1; at = buffer.indexOf(0x0a, at + 1)) {
    if (buffer[at - 1] !== 0x0d) return new HttpParseError(400, 'bare LF in a request head');
  }
  return undefined;
}

/** Parses a request head (bytes up to and including the blank line). */
export function parseRequestHead(buffer: Buffer, end: number): RequestHead {
  let text = buffer.toString('latin1', 0, end - 4);
  // A client may send blank lines between requests (RFC 9112 §2.2).
  while (text.startsWith('\r\n')) text = text.slice(2);
  const lines = text.split('\r\n');
  const { method, target, version } = parseRequestLine(lines[0]!);
  const headers = parseFields(lines);
  let host: string | undefined;
  let hosts = 0;
  for (const [key, value] of headers) {
    if (key.length === 4 && key.toLowerCase() === 'host') {
      host = value;
      hosts++;
    }
  }
  if (hosts > 1) throw new HttpParseError(400, 'more than one Host header');
  if (version === '1.1' && hosts === 0) throw new HttpParseError(400, 'HTTP/1.1 request without a Host header');
  let path = target;
  if (target.charCodeAt(0) !== 0x2f && method !== 'CONNECT') {
    if (target === '*' && method === 'OPTIONS') path = '*';
    else {
      // Absolute form (from clients configured to use a proxy): its authority is the host.
      const uri = absoluteTarget(target);
      host = uri.authority;
      path = uri.path;
    }
  }
  const { contentLength, chunked } = framing(headers, true);
  if (chunked && version === '1.0') throw new HttpParseError(400, 'Transfer-Encoding in an HTTP/1.0 request');
  const connection = tokens(headers, 'connection');
  for (const name of connection) {
    // Obeying these would unframe the body or unroute the request on its way to the app.
    if (UNLISTABLE.has(name) || name.startsWith('x-forwarded-')) throw new HttpParseError(400, `Connection may not name ${name}`);
  }
  const upgrade = connection.includes('upgrade') && headers.some(([key]) => key.toLowerCase() === 'upgrade');
  const keepAlive = version === '1.1' ? !connection.includes('close') : connection.includes('keep-alive');
  return { method, target, path, version, headers, host, contentLength: contentLength ?? 0, chunked, upgrade, keepAlive, raw: text };
}

/** Parses a response head (bytes up to and including the blank line). */
export function parseResponseHead(buffer: Buffer, end: number): ResponseHead {
  const raw = buffer.toString('latin1', 0, end - 4);
  const lines = raw.split('\r\n');
  const match = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]!);
  if (!match) throw new HttpParseError(400, `bad status line: ${JSON.stringify(lines[0]!.slice(0, 60))}`);
  const version = match[1] === '1' ? '1.1' : '1.0';
  const headers = parseFields(lines);
  const { contentLength, chunked } = framing(headers, false);
  const connection = tokens(headers, 'connection');
  const close = version === '1.1' ? connection.includes('close') : !connection.includes('keep-alive');
  let keepAliveSeconds: number | undefined;
  for (const token of tokens(headers, 'keep-alive')) {
    const timeout = /^timeout=(\d+)$/.exec(token);
    if (timeout) keepAliveSeconds = Number(timeout[1]);
  }
  return { status: Number(match[2]), reason: match[3] ?? '', version, headers, contentLength: chunked ? undefined : contentLength, chunked, close, keepAliveSeconds, raw };
}

const enum Chunk {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailer,
  TrailerLf,
  Done,
}

/** The parts of a chunk extension: its name, its value, the end of a quoted value. */
const enum Extension {
  Name,
  Value,
  AfterQuoted,
}

/**
 * Follows a chunked body through any number of buffers and says where it
 * ends, without copying: the bytes themselves are passed on unchanged over
 * HTTP/1.1. Given `data`, it also hands over each chunk's data, in order, as
 * slices of what came in (an app's answer going on over HTTP/2, which frames
 * bodies itself: extensions and trailers are dropped there).
 */
export class ChunkedScanner {
  private state = Chunk.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private lineLength = 0;
  /** Inside a quoted chunk extension value, and just after a backslash in one. */
  private quoted = false;
  private escaped = false;
  /** Which part of a chunk extension comes, and how many bytes of its name or value came. */
  private extension = Extension.Name;
  private extensionLength = 0;
  /** The current trailer line has had its colon. */
  private colon = false;

  get done(): boolean {
    return this.state === Chunk.Done;
  }

  /** Consumes buffer from offset; returns the index just past the body's end, or -1 if it goes on. */
  scan(buffer: Buffer, offset = 0, data?: (piece: Buffer) => void): number {
    let i = offset;
    while (i < buffer.length) {
      switch (this.state) {
        case Chunk.Size: {
          const byte = buffer[i]!;
          const digit = byte >= 48 && byte <= 57 ? byte - 48 : byte >= 97 && byte <= 102 ? byte - 87 : byte >= 65 && byte <= 70 ? byte - 55 : -1;
          if (digit >= 0) {
            if (++this.digits > 12) throw new HttpParseError(400, 'chunk size too large');
            this.size = this.size * 16 + digit;
          } else if (this.digits === 0) {
            throw new HttpParseError(400, 'bad chunk size');
          } else if (byte === 0x3b) {
            this.state = Chunk.Extension;
          } else if (byte === 0x0d) {
            this.state = Chunk.SizeLf;
          } else {
            throw new HttpParseError(400, 'bad chunk size');
          }
          i++;
          break;
        }
        case Chunk.Extension: {
          // ;name=value;name="quoted value", as strictly as Node reads them: a token for each name, a
          // token or a quoted string for each value, no whitespace around the separators, no control
          // characters, no raw bytes above 0x7e. Anything else is refused here rather than passed on
          // for the app to read differently.
          const byte = buffer[i]!;
          if (++this.lineLength > 4096) throw new HttpParseError(400, 'chunk extension too long');
          if (this.quoted) {
            if ((byte < 0x20 && byte !== 0x09) || byte > 0x7e) throw new HttpParseError(400, 'bad character in a chunk extension');
            if (this.escaped) this.escaped = false;
            else if (byte === 0x5c) this.escaped = true;
            else if (byte === 0x22) {
              this.quoted = false;
              this.extension = Extension.AfterQuoted;
            }
          } else if (TOKEN_BYTES[byte] === 1 && this.extension !== Extension.AfterQuoted) {
            this.extensionLength++;
          } else if (byte === 0x22 && this.extension === Extension.Value && this.extensionLength === 0) {
            this.quoted = true;
          } else if (byte === 0x3d && this.extension === Extension.Name && this.extensionLength > 0) {
            this.extension = Extension.Value;
            this.extensionLength = 0;
          } else if ((byte === 0x3b || byte === 0x0d) && (this.extension === Extension.AfterQuoted || this.extensionLength > 0)) {
            this.extension = Extension.Name;
            this.extensionLength = 0;
            if (byte === 0x0d) this.state = Chunk.SizeLf;
          } else {
            throw new HttpParseError(400, 'bad character in a chunk extension');
          }
          i++;
          break;
        }
        case Chunk.SizeLf:
          if (buffer[i] !== 0x0a) throw new HttpParseError(400, 'bad chunk line ending');
          i++;
          this.lineLength = 0;
          if (this.size === 0) {
            this.state = Chunk.Trailer;
          } else {
            this.remaining = this.size;
            this.state = Chunk.Data;
          }
          this.size = 0;
          this.digits = 0;
          break;
        case Chunk.Data: {
          const take = Math.min(this.remaining, buffer.length - i);
          if (data !== undefined && take > 0) data(i === 0 && take === buffer.length ? buffer : buffer.subarray(i, i + take));
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = Chunk.DataCr;
          break;
        }
        case Chunk.DataCr:
          if (buffer[i] !== 0x0d) throw new HttpParseError(400, 'chunk data longer than its size');
          this.state = Chunk.DataLf;
          i++;
          break;
        case Chunk.DataLf:
          if (buffer[i] !== 0x0a) throw new HttpParseError(400, 'bad chunk ending');
          this.state = Chunk.Size;
          i++;
          break;
        case Chunk.Trailer: {
          // Trailer fields (name: value), each ending in CRLF, until an empty line.
          const byte = buffer[i]!;
          if (byte === 0x0d) {
            if (this.lineLength > 0 && !this.colon) throw new HttpParseError(400, 'bad trailer line');
            this.state = Chunk.TrailerLf;
          } else if (++this.lineLength > MAX_HEAD) {
            throw new HttpParseError(431, 'trailers too large');
          } else if (this.colon) {
            if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f) throw new HttpParseError(400, 'bad character in a trailer');
          } else if (byte === 0x3a && this.lineLength > 1) {
            this.colon = true;
          } else if (TOKEN_BYTES[byte] !== 1) {
            throw new HttpParseError(400, 'bad trailer line');
          }
          i++;
          break;
        }
        case Chunk.TrailerLf:
          if (buffer[i] !== 0x0a) throw new HttpParseError(400, 'bad trailer line ending');
          i++;
          if (this.lineLength === 0) {
            this.state = Chunk.Done;
            return i;
          }
          this.lineLength = 0;
          this.colon = false;
          this.state = Chunk.Trailer;
          break;
        case Chunk.Done:
          return i;
      }
    }
    return -1;
  }
}

/**
 * Where a body ends: a fixed length, chunks, or the connection closing.
 * `take` says how many bytes of a buffer belong to the body.
 */
export class BodyFraming {
  private remaining: number;
  private readonly chunks?: ChunkedScanner;

  constructor(
    kind: { contentLength: number | undefined; chunked: boolean },
    /** Delimited by the connection closing (responses only). */
    readonly untilClose = false,
  ) {
    this.remaining = kind.contentLength ?? 0;
    if (kind.chunked) this.chunks = new ChunkedScanner();
  }

  get done(): boolean {
    if (this.untilClose) return false;
    return this.chunks ? this.chunks.done : this.remaining === 0;
  }

  /** How many bytes from offset belong to this body (the rest is the next message). */
  take(buffer: Buffer, offset = 0): number {
    if (this.untilClose) return buffer.length - offset;
    if (this.chunks) {
      const end = this.chunks.scan(buffer, offset);
      return (end === -1 ? buffer.length : end) - offset;
    }
    const take = Math.min(this.remaining, buffer.length - offset);
    this.remaining -= take;
    return take;
  }
}
