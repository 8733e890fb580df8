import { describe, expect, it } from 'vitest';
import { clientResponseHead, ownResponseHead, upstreamRequestHead } from '../../src/proxy/headers.js';
import { headEnd, parseRequestHead, parseResponseHead } from '../../src/proxy/http1.js';

// The heads the router writes, read back as the app and the client read them:
// what is dropped as hop-by-hop, the framing written once, and the
// forwarding headers, for the cases a raw-socket test reaches only by luck.

const request = (text: string) => {
  const buffer = Buffer.from(text, 'latin1');
  return parseRequestHead(buffer, headEnd(buffer));
};
const response = (text: string) => {
  const buffer = Buffer.from(text, 'latin1');
  return parseResponseHead(buffer, headEnd(buffer));
};
/** The fields of a head the router wrote, lower-cased names, in order. */
const fields = (head: string) =>
  head
    .split('\r\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()] as const);
const named = (head: string, name: string) => fields(head).filter(([key]) => key === name).map(([, value]) => value);

describe('the head an app is sent', () => {
  it('drops every hop-by-hop header of the client, and what its Connection names', () => {
    const head = upstreamRequestHead(
      request('GET / HTTP/1.1\r\nHost: shop.localhost\r\nConnection: keep-alive, x-hop\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic c2VjcmV0\r\nProxy-Authenticate: Basic\r\nTE: trailers\r\nTrailer: x-t\r\nUpgrade: h2c\r\nX-Hop: 1\r\nX-Kept: 2\r\n\r\n'),
      '127.0.0.1',
    );
    expect(fields(head).map(([key]) => key)).toEqual(['host', 'x-kept', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded']);
  });

  it('keeps Upgrade and Connection of a WebSocket upgrade, and nothing else hop-by-hop', () => {
    const head = upstreamRequestHead(request('GET /ws HTTP/1.1\r\nHost: shop.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nTE: trailers\r\n\r\n'), '127.0.0.1');
    expect(named(head, 'connection')).toEqual(['Upgrade']);
    expect(named(head, 'upgrade')).toEqual(['websocket']);
    expect(named(head, 'te')).toEqual([]);
  });

  it('writes the framing it read once: one length for "5, 5" or two equal lengths, chunked for any spelling of it', () => {
    for (const framing of ['Content-Length: 5, 5\r\n', 'Content-Length: 5\r\nContent-Length: 5\r\n', 'content-length: 05\r\n']) {
      const head = upstreamRequestHead(request(`POST / HTTP/1.1\r\nHost: shop.localhost\r\n${framing}\r\n`), '127.0.0.1');
      expect(named(head, 'content-length'), framing).toEqual(['5']);
      expect(named(head, 'transfer-encoding'), framing).toEqual([]);
    }
    const chunked = upstreamRequestHead(request('POST / HTTP/1.1\r\nHost: shop.localhost\r\nTransfer-Encoding: \tCHUNKED \r\n\r\n'), '127.0.0.1');
    expect(named(chunked, 'transfer-encoding')).toEqual(['chunked']);
    expect(named(chunked, 'content-length')).toEqual([]);
  });

  it('appends the client to every X-Forwarded-For and Forwarded an earlier proxy sent, in order', () => {
    const head = upstreamRequestHead(
      request('GET / HTTP/1.1\r\nHost: shop.localhost\r\nX-Forwarded-For: 10.0.0.1\r\nForwarded: for=10.0.0.1\r\nX-Forwarded-For: 10.0.0.2, 10.0.0.3\r\nForwarded: for=10.0.0.2\r\n\r\n'),
      '127.0.0.1',
    );
    expect(named(head, 'x-forwarded-for')).toEqual(['10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1']);
    expect(named(head, 'forwarded')).toEqual(['for=10.0.0.1, for=10.0.0.2, for=127.0.0.1;host="shop.localhost";proto=http']);
  });

  it("leaves an earlier proxy's X-Forwarded-Host and -Proto as they were, once, and adds them when absent", () => {
    const kept = upstreamRequestHead(request('GET / HTTP/1.1\r\nHost: shop.localhost\r\nX-Forwarded-Host: shop.example\r\nX-Forwarded-Proto: https\r\n\r\n'), '127.0.0.1');
    expect(named(kept, 'x-forwarded-host')).toEqual(['shop.example']);
    expect(named(kept, 'x-forwarded-proto')).toEqual(['https']);
    const added = upstreamRequestHead(request('GET / HTTP/1.1\r\nHost: shop.localhost:7654\r\n\r\n'), '127.0.0.1', 'https');
    expect(named(added, 'x-forwarded-host')).toEqual(['shop.localhost:7654']);
    expect(named(added, 'x-forwarded-proto')).toEqual(['https']);
    expect(named(added, 'forwarded')).toEqual(['for=127.0.0.1;host="shop.localhost:7654";proto=https']);
  });

  it('quotes an IPv6 client in Forwarded, as RFC 7239 requires', () => {
    const head = upstreamRequestHead(request('GET / HTTP/1.1\r\nHost: shop.localhost\r\n\r\n'), '::1');
    expect(named(head, 'x-forwarded-for')).toEqual(['::1']);
    expect(named(head, 'forwarded')).toEqual(['for="[::1]";host="shop.localhost";proto=http']);
  });

  it('sends the host it routed by: the authority of an absolute-form target, added when an HTTP/1.0 client sent none', () => {
    const rewritten = upstreamRequestHead(request('GET http://a2.localhost/x HTTP/1.1\r\nHost: somewhere.else\r\n\r\n'), '127.0.0.1');
    expect(rewritten.split('\r\n')[0]).toBe('GET /x HTTP/1.1');
    expect(named(rewritten, 'host')).toEqual(['a2.localhost']);
    const added = upstreamRequestHead(request('GET http://a2.localhost/x HTTP/1.0\r\n\r\n'), '127.0.0.1');
    expect(named(added, 'host')).toEqual(['a2.localhost']);
    const none = upstreamRequestHead(request('GET /x HTTP/1.0\r\n\r\n'), '127.0.0.1');
    expect(named(none, 'host')).toEqual([]);
    expect(named(none, 'x-forwarded-host')).toEqual(['']);
  });
});

describe('the head a client is sent', () => {
  it("drops the app's hop-by-hop headers and what its Connection names, never the framing it names", () => {
    const app = response('HTTP/1.1 200 OK\r\nConnection: keep-alive, Content-Length, Transfer-Encoding, x-hop\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nTrailer: x-t\r\nUpgrade: h2c\r\nX-Hop: 1\r\nContent-Length: 2\r\nX-Kept: 3\r\n\r\n');
    const head = clientResponseHead(app, false);
    expect(head).toBe('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Kept: 3\r\n\r\n');
    const chunked = clientResponseHead(response('HTTP/1.1 200 OK\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n'), false);
    expect(named(chunked, 'transfer-encoding')).toEqual(['chunked']);
  });

  it("keeps the app's reason, gives the standard one when it sent none, and says close when the connection ends", () => {
    expect(clientResponseHead(response('HTTP/1.1 200 Fine\r\nContent-Length: 0\r\n\r\n'), true)).toBe('HTTP/1.1 200 Fine\r\nContent-Length: 0\r\nconnection: close\r\n\r\n');
    expect(clientResponseHead(response('HTTP/1.0 404\r\n\r\n'), true)).toBe('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
    expect(clientResponseHead(response('HTTP/1.1 599\r\n\r\n'), false)).toBe('HTTP/1.1 599 \r\n\r\n');
  });

  it('announces the idle deadline on a kept-alive head, in whole seconds, and only there', () => {
    const app = response('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n');
    expect(clientResponseHead(app, false, 30)).toBe('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nkeep-alive: timeout=30\r\n\r\n');
    expect(clientResponseHead(app, true, 30)).toBe('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nconnection: close\r\n\r\n');
    expect(clientResponseHead(app, false, 0)).toBe('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    expect(ownResponseHead(404, { 'content-length': 0 }, false, 30)).toBe('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nkeep-alive: timeout=30\r\n\r\n');
  });

  it("writes the router's own answers whole", () => {
    expect(ownResponseHead(503, { 'content-type': 'text/plain', 'content-length': 2 }, false)).toBe('HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\n');
    expect(ownResponseHead(599, {}, true)).toBe('HTTP/1.1 599 \r\nconnection: close\r\n\r\n');
  });
});
