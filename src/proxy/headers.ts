import { STATUS_CODES } from 'node:http';
import { tokens, type Header, type RequestHead, type ResponseHead } from './http1.js';

/**
 * Headers that describe one hop, never forwarded (RFC 9110 §7.6.1).
 * Transfer-Encoding is not among them here: bodies pass through in the
 * framing they came in, so their framing header goes with them.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade']);

/** Named in Connection, still never dropped: they frame the message (a request naming them is refused). */
const FRAMING = new Set(['close', 'keep-alive', 'upgrade', 'content-length', 'transfer-encoding', 'host']);

/** Hop-by-hop names, plus any the message itself lists in Connection. */
function dropped(headers: Header[]): Set<string> {
  const named = tokens(headers, 'connection');
  if (named.length === 0) return HOP_BY_HOP;
  const set = new Set(HOP_BY_HOP);
  for (const name of named) if (!FRAMING.has(name)) set.add(name);
  return set;
}

/**
 * The head sent to the app: the request line in origin form, the client's
 * headers less hop-by-hop ones (an upgrade keeps Upgrade and Connection),
 * the framing the router read written once and plainly, the host the router
 * routed by, and X-Forwarded-For/-Host/-Proto and Forwarded appended to what
 * earlier proxies said; `proto` is how the client reached the router.
 */
export function upstreamRequestHead(head: RequestHead, client: string, proto: 'http' | 'https' = 'http'): string {
  const host = head.host ?? '';
  const skip = dropped(head.headers);
  let out = `${head.method} ${head.path} HTTP/${head.version}\r\n`;
  let framed = false;
  let hosted = false;
  let forwardedFor: string | undefined;
  let forwarded: string | undefined;
  let hasForwardedHost = false;
  let hasForwardedProto = false;
  for (const [name, value] of head.headers) {
    const lower = name.toLowerCase();
    if (skip.has(lower)) {
      if (head.upgrade && (lower === 'upgrade' || lower === 'connection')) out += `${name}: ${value}\r\n`;
      continue;
    }
    if (lower === 'host') {
      out += `${name}: ${host}\r\n`;
      hosted = true;
      continue;
    }
    if (lower === 'content-length' || lower === 'transfer-encoding') {
      // "5, 5" or two equal lengths were read as one: the app gets exactly that one.
      if (!framed) out += head.chunked ? 'transfer-encoding: chunked\r\n' : `content-length: ${head.contentLength}\r\n`;
      framed = true;
      continue;
    }
    if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor ? `${forwardedFor}, ${value}` : value;
      continue;
    }
    if (lower === 'forwarded') {
      forwarded = forwarded ? `${forwarded}, ${value}` : value;
      continue;
    }
    if (lower === 'x-forwarded-host') hasForwardedHost = true;
    else if (lower === 'x-forwarded-proto') hasForwardedProto = true;
    out += `${name}: ${value}\r\n`;
  }
  if (!hosted && head.host !== undefined) out += `host: ${host}\r\n`;
  out += `x-forwarded-for: ${forwardedFor ? `${forwardedFor}, ${client}` : client}\r\n`;
  if (!hasForwardedHost) out += `x-forwarded-host: ${host}\r\n`;
  if (!hasForwardedProto) out += `x-forwarded-proto: ${proto}\r\n`;
  const node = client.includes(':') ? `"[${client}]"` : client;
  const mine = `for=${node};host=${JSON.stringify(host)};proto=${proto}`;
  out += `forwarded: ${forwarded ? `${forwarded}, ${mine}` : mine}\r\n\r\n`;
  return out;
}

/**
 * How a head the router sends ends: `connection: close` when the connection ends after it; else
 * how long the router keeps it open idle (`keep-alive: timeout=N`, as Node's own server says), so
 * that a client which honours the hint (undici's fetch, Node's agents with a timeout) closes an idle
 * connection before the router does, instead of sending on it as the router closes it.
 */
function headClosing(close: boolean, idleSeconds: number): string {
  if (close) return 'connection: close\r\n\r\n';
  return idleSeconds >= 1 ? `keep-alive: timeout=${idleSeconds}\r\n\r\n` : '\r\n';
}

/** The head sent to the client: the app's, less hop-by-hop headers, with the router's own ending (headClosing). */
export function clientResponseHead(response: ResponseHead, close: boolean, idleSeconds = 0): string {
  const skip = dropped(response.headers);
  let out = `HTTP/1.1 ${response.status} ${response.reason || STATUS_CODES[response.status] || ''}\r\n`;
  for (const [name, value] of response.headers) {
    if (!skip.has(name.toLowerCase())) out += `${name}: ${value}\r\n`;
  }
  return out + headClosing(close, idleSeconds);
}

/** A complete response head of the router's own. */
export function ownResponseHead(status: number, headers: Record<string, string | number>, close: boolean, idleSeconds = 0): string {
  let out = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (const [name, value] of Object.entries(headers)) out += `${name}: ${value}\r\n`;
  return out + headClosing(close, idleSeconds);
}
