import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export function stripHopByHop(headers: IncomingHttpHeaders, keepUpgrade = false): OutgoingHttpHeaders {
  const named = new Set((String(headers.connection ?? '')).toLowerCase().split(',').map((token) => token.trim()).filter(Boolean));
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if ((HOP_BY_HOP.has(name) || named.has(name)) && !(keepUpgrade && (name === 'upgrade' || name === 'connection'))) continue;
    out[name] = value;
  }
  return out;
}

/** X-Forwarded-For/-Host/-Proto and Forwarded, appended to what earlier proxies said. */
export function addForwarded(headers: OutgoingHttpHeaders, req: IncomingMessage): OutgoingHttpHeaders {
  const client = req.socket.remoteAddress ?? 'unknown';
  const host = req.headers.host ?? '';
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${prior}, ${client}` : client;
  headers['x-forwarded-host'] ??= host;
  headers['x-forwarded-proto'] ??= 'http';
  const node = client.includes(':') ? `"[${client}]"` : client;
  const forwarded = `for=${node};host=${JSON.stringify(host)};proto=http`;
  headers.forwarded = req.headers.forwarded ? `${req.headers.forwarded}, ${forwarded}` : forwarded;
  return headers;
}
