import { describe, expect, it } from 'vitest';
import { absoluteTarget, BodyFraming, ChunkedScanner, headEnd, HttpParseError, incompleteHeadProblem, parseRequestHead, parseResponseHead } from '../../src/proxy/http1.js';

const head = (text: string) => {
  const buffer = Buffer.from(text, 'latin1');
  return parseRequestHead(buffer, headEnd(buffer));
};
const responseHead = (text: string) => {
  const buffer = Buffer.from(text, 'latin1');
  return parseResponseHead(buffer, headEnd(buffer));
};

describe('HTTP/1.1 framing', () => {
  const body = Buffer.from('5;name=value\r\nhello\r\n0b\r\n world, etc\r\n0\r\ntrailer: 1\r\nother: 2\r\n\r\nNEXT');

  it('finds the end of a chunked body fed in one piece, or one byte at a time', () => {
    expect(new ChunkedScanner().scan(body)).toBe(body.length - 4);
    const scanner = new ChunkedScanner();
    let end = -1;
    for (let i = 0; i < body.length && end === -1; i++) end = scanner.scan(body.subarray(i, i + 1)) === -1 ? -1 : i + 1;
    expect(end).toBe(body.length - 4);
    expect(scanner.done).toBe(true);
  });

  it('refuses chunked bodies that could be read two ways', () => {
    for (const bad of ['x\r\n', '5\r\nhello!\r\n', '5\nhello\r\n', '1234567890abc\r\n']) {
      expect(() => new ChunkedScanner().scan(Buffer.from(bad)), bad).toThrow(HttpParseError);
    }
  });

  it('counts a fixed-length body across buffers and leaves the next message alone', () => {
    const framing = new BodyFraming({ contentLength: 7, chunked: false });
    expect(framing.take(Buffer.from('abc'))).toBe(3);
    expect(framing.take(Buffer.from('defgGET /'))).toBe(4);
    expect(framing.done).toBe(true);
  });

  it('reads a request head: method, target, host, framing and persistence', () => {
    const parsed = head('POST /a?b HTTP/1.1\r\nHost: Shop.localhost:7654\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n');
    expect(parsed).toMatchObject({ method: 'POST', target: '/a?b', version: '1.1', host: 'Shop.localhost:7654', contentLength: 12, chunked: false, keepAlive: true, upgrade: false });
    expect(head('GET / HTTP/1.0\r\n\r\n')).toMatchObject({ keepAlive: false, host: undefined });
    expect(head('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n').upgrade).toBe(true);
    expect(head('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n').contentLength).toBe(3);
  });

  it('reads a response head: framing, close and the keep-alive timeout', () => {
    expect(responseHead('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nKeep-Alive: timeout=5\r\n\r\n')).toMatchObject({ status: 200, contentLength: 2, close: false, keepAliveSeconds: 5 });
    expect(responseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n')).toMatchObject({ chunked: true, contentLength: undefined });
    expect(responseHead('HTTP/1.0 200 OK\r\n\r\n')).toMatchObject({ close: true, contentLength: undefined });
    expect(responseHead('HTTP/1.1 204\r\nConnection: close\r\n\r\n')).toMatchObject({ status: 204, reason: '', close: true });
    expect(() => responseHead('HTTP/1.1 2000 OK\r\n\r\n')).toThrow(HttpParseError);
  });

  it('reads an absolute-form target as RFC 9112 says: host from the authority, the path in origin form', () => {
    expect(absoluteTarget('http://a2.localhost?q=1')).toEqual({ authority: 'a2.localhost', path: '/?q=1' });
    expect(absoluteTarget('HTTP://Shop.localhost:7654')).toEqual({ authority: 'Shop.localhost:7654', path: '/' });
    expect(absoluteTarget('https://shop.localhost/a/b?c')).toEqual({ authority: 'shop.localhost', path: '/a/b?c' });
    expect(() => absoluteTarget('ftp://shop.localhost/')).toThrow(/ftp: targets are not served here/);
    expect(head('GET http://a2.localhost?q=1 HTTP/1.1\r\nHost: other\r\n\r\n')).toMatchObject({ host: 'a2.localhost', path: '/?q=1' });
    expect(head('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n').path).toBe('*');
  });

  it('refuses the start of a head that cannot become HTTP/1.x, and waits for one that can', () => {
    const check = (text: string) => incompleteHeadProblem(Buffer.from(text, 'latin1'), 0)?.status;
    expect(check('GET /\r\n')).toBe(400);
    expect(check('GET / HTTP/1.1\n')).toBe(400);
    expect(check('GET / HTTP/1.1\r\nHost: a\n')).toBe(400);
    expect(check('\x16\x03\x01')).toBe(400);
    expect(check('GET / HTTP/2.0\r\n')).toBe(505);
    expect(check('GE')).toBeUndefined();
    expect(check('GET /path HTT')).toBeUndefined();
    expect(check('GET / HTTP/1.1\r\nHost: a\r\nX-A: 1')).toBeUndefined();
  });

  it('refuses a Connection header that names a framing or forwarding header', () => {
    for (const name of ['Content-Length', 'transfer-encoding', 'Host', 'X-Forwarded-For', 'x-forwarded-proto', 'Forwarded']) {
      expect(() => head(`GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, ${name}\r\n\r\n`), name).toThrow(HttpParseError);
    }
    expect(head('GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, x-custom\r\n\r\n').keepAlive).toBe(true);
  });
  it('refuses an HTTP/1.1 request without a Host, and one with an empty or too long Content-Length', () => {
    expect(() => head('GET / HTTP/1.1\r\nX-A: 1\r\n\r\n')).toThrow(/without a Host header/);
    expect(() => head('POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n')).toThrow(/bad Content-Length/);
    expect(() => head('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n')).toThrow(/bad Content-Length/);
    expect(() => head('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456\r\n\r\n')).toThrow(/bad Content-Length/);
    expect(head('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 123456789012345\r\n\r\n').contentLength).toBe(123456789012345);
  });

  it('reads a request after the blank line an old client sends between requests, and upgrade and persistence only as declared', () => {
    expect(head('\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n')).toMatchObject({ method: 'GET', path: '/after', host: 'a' });
    expect(head('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n').upgrade).toBe(false);
    expect(head('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n').upgrade).toBe(false);
    expect(head('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n').keepAlive).toBe(false);
    expect(head('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').keepAlive).toBe(true);
  });

  it('reads a response whose coding does not end in chunked as running until the close, and a chunked one as chunked', () => {
    expect(responseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 9\r\n\r\n')).toMatchObject({ chunked: false, contentLength: undefined });
    expect(responseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n')).toMatchObject({ chunked: true, contentLength: undefined });
    expect(responseHead('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n')).toMatchObject({ close: false, contentLength: 0 });
    const untilClose = new BodyFraming({ contentLength: undefined, chunked: false }, true);
    expect(untilClose.take(Buffer.from('HTTP/1.1 200 OK\r\n'))).toBe(17);
    expect(untilClose.done).toBe(false);
  });
  it('tells a bad Transfer-Encoding from one not implemented, and reads 14- and 4-letter headers as themselves', () => {
    for (const coding of ['chunked, chunked', '', ',']) expect(() => head(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${coding}\r\n\r\n`), coding).toThrow(/bad Transfer-Encoding/);
    expect(() => head('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n')).toThrow(/may only be chunked/);
    expect(head('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n').chunked).toBe(true);
    expect(head('GET / HTTP/1.1\r\nAccept-Charset: utf-8\r\nHost: a\r\nFrom: b\r\nDate: c\r\nTransfer-Encodin: x\r\n\r\n')).toMatchObject({ host: 'a', contentLength: 0, chunked: false });
  });

  it('ends a chunked body where its last chunk ends, leaving the next request in the same buffer alone', () => {
    const framing = new BodyFraming({ contentLength: undefined, chunked: true });
    expect(framing.take(Buffer.from('3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n'), 0)).toBe(13);
    expect(framing.done).toBe(true);
  });
});
