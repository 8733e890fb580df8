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
  version: '1.0' | '1.1';
  headers: Header[];
  host: string | undefined;
  contentLength: number;
  chunked: boolean;
  /** Connection: upgrade with an Upgrade header (WebSocket). */
  upgrade: boolean;
  /** Whether the client keeps the connection after this exchange. */
  keepAlive: boolean;
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
}

/** A malformed message: the status to answer a client with. */
export class HttpParseError extends Error {
  constructor(
    readonly status: 400 | 431 | 501 | 505,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible characters, spaces, tabs and obs-text; never CR, LF or NUL.
const BAD_VALUE = /[\0\r\n]/;

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
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) throw new HttpParseError(400, 'bad character in a header value');
    headers.push([line.slice(0, colon), value]);
  }
  return headers;
}

/** Comma-separated tokens of every header with this (lower-case) name, lower-cased. */
export function tokens(headers: Header[], name: string): string[] {
  const out: string[] = [];
  for (const [key, value] of headers) {
    if (key.length === name.length && key.toLowerCase() === name) {
      for (const token of value.split(',')) {
        const trimmed = token.trim().toLowerCase();
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
        const text = part.trim();
        if (!/^\d{1,15}$/.test(text)) throw new HttpParseError(400, `bad Content-Length: ${JSON.stringify(value)}`);
        const length = Number(text);
        if (contentLength !== undefined && contentLength !== length) throw new HttpParseError(400, 'conflicting Content-Length headers');
        contentLength = length;
      }
    } else if (key.length === 17 && key.toLowerCase() === 'transfer-encoding') {
      encodings = [...(encodings ?? []), ...value.split(',').map((token) => token.trim().toLowerCase()).filter(Boolean)];
    }
  }
  if (encodings === undefined) return { contentLength, chunked: false };
  if (request) {
    if (contentLength !== undefined) throw new HttpParseError(400, 'both Content-Length and Transfer-Encoding');
    if (encodings.at(-1) !== 'chunked') throw new HttpParseError(encodings.length === 0 ? 400 : 501, 'a request body must end with chunked encoding');
    return { contentLength: undefined, chunked: true };
  }
  // A response whose encoding does not end in chunked runs until the connection closes.
  return { contentLength: undefined, chunked: encodings.at(-1) === 'chunked' };
}

/** Parses a request head (bytes up to and including the blank line). */
export function parseRequestHead(buffer: Buffer, end: number): RequestHead {
  let text = buffer.toString('latin1', 0, end - 4);
  // A client may send blank lines between requests (RFC 9112 §2.2).
  while (text.startsWith('\r\n')) text = text.slice(2);
  const lines = text.split('\r\n');
  const line = lines[0]!;
  const first = line.indexOf(' ');
  const last = line.lastIndexOf(' ');
  if (first <= 0 || last === first) throw new HttpParseError(400, `bad request line: ${JSON.stringify(line.slice(0, 60))}`);
  const method = line.slice(0, first);
  const target = line.slice(first + 1, last);
  const protocol = line.slice(last + 1);
  if (!TOKEN.test(method) || target === '' || /[\s\0]/.test(target)) throw new HttpParseError(400, `bad request line: ${JSON.stringify(line.slice(0, 60))}`);
  if (protocol !== 'HTTP/1.1' && protocol !== 'HTTP/1.0') throw new HttpParseError(protocol.startsWith('HTTP/') ? 505 : 400, `unsupported protocol ${JSON.stringify(protocol.slice(0, 20))}`);
  const version = protocol === 'HTTP/1.1' ? '1.1' : '1.0';
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
  // Absolute form (from clients configured to use a proxy): its authority is the host.
  if (/^https?:\/\//i.test(target)) host = target.slice(target.indexOf('//') + 2).split('/')[0];
  const { contentLength, chunked } = framing(headers, true);
  const connection = tokens(headers, 'connection');
  const upgrade = connection.includes('upgrade') && headers.some(([key]) => key.toLowerCase() === 'upgrade');
  const keepAlive = version === '1.1' ? !connection.includes('close') : connection.includes('keep-alive');
  return { method, target, version, headers, host, contentLength: contentLength ?? 0, chunked, upgrade, keepAlive };
}

/** Parses a response head (bytes up to and including the blank line). */
export function parseResponseHead(buffer: Buffer, end: number): ResponseHead {
  const lines = buffer.toString('latin1', 0, end - 4).split('\r\n');
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
  return { status: Number(match[2]), reason: match[3] ?? '', version, headers, contentLength: chunked ? undefined : contentLength, chunked, close, keepAliveSeconds };
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

/**
 * Follows a chunked body through any number of buffers and says where it
 * ends, without copying: the bytes themselves are passed on unchanged.
 */
export class ChunkedScanner {
  private state = Chunk.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private lineLength = 0;

  get done(): boolean {
    return this.state === Chunk.Done;
  }

  /** Consumes buffer from offset; returns the index just past the body's end, or -1 if it goes on. */
  scan(buffer: Buffer, offset = 0): number {
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
          } else if (byte === 0x3b || byte === 0x20 || byte === 0x09) {
            this.state = Chunk.Extension;
          } else if (byte === 0x0d) {
            this.state = Chunk.SizeLf;
          } else {
            throw new HttpParseError(400, 'bad chunk size');
          }
          i++;
          break;
        }
        case Chunk.Extension:
          if (buffer[i] === 0x0d) this.state = Chunk.SizeLf;
          else if (buffer[i] === 0x0a) throw new HttpParseError(400, 'bare LF in a chunk line');
          else if (++this.lineLength > 4096) throw new HttpParseError(400, 'chunk extension too long');
          i++;
          break;
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
        case Chunk.Trailer:
          // Trailer fields, each ending in CRLF, until an empty line.
          if (buffer[i] === 0x0d) {
            this.state = Chunk.TrailerLf;
          } else if (buffer[i] === 0x0a) {
            throw new HttpParseError(400, 'bare LF in trailers');
          } else if (++this.lineLength > MAX_HEAD) {
            throw new HttpParseError(431, 'trailers too large');
          }
          i++;
          break;
        case Chunk.TrailerLf:
          if (buffer[i] !== 0x0a) throw new HttpParseError(400, 'bad trailer line ending');
          i++;
          if (this.lineLength === 0) {
            this.state = Chunk.Done;
            return i;
          }
          this.lineLength = 0;
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
