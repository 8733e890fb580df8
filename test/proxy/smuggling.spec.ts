import { afterEach, describe, expect, it } from 'vitest';
import { rawClient, recordingApp, routerFor, sleep, type Cleanups } from './wire.js';

// Ambiguous requests, sent over raw sockets through a real router to a real
// app (Node's own HTTP parser) that records what reached it. Each one must be
// refused before the app sees a byte, or reach the app as exactly the one
// request the router read, body boundary and all: a second reading is how
// one client's bytes become another client's request.

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const H = 'Host: shop.localhost\r\n';
const FOLLOW = `GET /follow HTTP/1.1\r\n${H}\r\n`;

type Expect = 'refuse' | { size: number };

const cases: Array<[name: string, raw: string, expect: Expect]> = [
  // Content-Length and Transfer-Encoding together.
  ['CL.TE: a length and chunked', `POST /a HTTP/1.1\r\n${H}Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED`, 'refuse'],
  ['TE.CL: chunked and a length', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`, 'refuse'],
  ['TE.CL with the length in lower case, after', `POST /a HTTP/1.1\r\n${H}transfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n`, 'refuse'],
  // Transfer-Encoding read two ways.
  ['TE.TE: chunked, identity', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\nContent-Length: 5\r\n\r\nhello`, 'refuse'],
  ['TE.TE: chunked, identity without a length', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: xchunked', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: two Transfer-Encoding headers', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: chunked then identity in two headers', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: chunked, chunked', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: a vertical tab before chunked', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: \x0bchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: a form feed after chunked', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\x0c\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: a no-break space after chunked', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\xa0\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: a space before the colon', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: a tab before the colon', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding\t: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: chunked on a folded line', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: the header itself folded under another', `POST /a HTTP/1.1\r\n${H}X-A: 1\r\n Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: chunked in HTTP/1.0', `POST /a HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['TE.TE: an empty Transfer-Encoding and a length', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding:\r\nContent-Length: 5\r\n\r\nhello`, 'refuse'],
  ['TE: chunked with odd but lawful whitespace', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: \t chunked \t\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, { size: 5 }],
  ['TE: Chunked in capitals', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, { size: 5 }],
  ['TE: chunked with an extension and a trailer', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nx-trailer: 1\r\n\r\n`, { size: 5 }],
  // Content-Length read two ways.
  ['CL.CL: two different lengths', `POST /a HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 5\r\n\r\nhello`, 'refuse'],
  ['CL.CL: two different lengths in one header', `POST /a HTTP/1.1\r\n${H}Content-Length: 3, 5\r\n\r\nhello`, 'refuse'],
  ['CL: two equal lengths, read as one', `POST /a HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, { size: 5 }],
  ['CL: an equal length twice in one header, read as one', `POST /a HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`, { size: 5 }],
  ['CL: a signed length', `POST /a HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`, 'refuse'],
  ['CL: a negative length', `POST /a HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\nhello`, 'refuse'],
  ['CL: a hexadecimal length', `POST /a HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`, 'refuse'],
  ['CL: two numbers with a space', `POST /a HTTP/1.1\r\n${H}Content-Length: 1 4\r\n\r\nhello`, 'refuse'],
  ['CL: a length too large to be exact', `POST /a HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\nhello`, 'refuse'],
  ['CL: a vertical tab after the length', `POST /a HTTP/1.1\r\n${H}Content-Length: 5\x0b\r\n\r\nhello`, 'refuse'],
  ['CL: a space before the colon', `POST /a HTTP/1.1\r\n${H}Content-Length : 5\r\n\r\nhello`, 'refuse'],
  ['CL: leading zeros', `POST /a HTTP/1.1\r\n${H}Content-Length: 005\r\n\r\nhello`, { size: 5 }],
  // Connection naming the headers that frame or route a message.
  ['Connection: Content-Length (a body smuggled as a second request)', `POST /a HTTP/1.1\r\n${H}Content-Length: 46\r\nConnection: keep-alive, Content-Length\r\n\r\nGET /SMUGGLED HTTP/1.1\r\nHost: shop.localhost\r\n\r\n`, 'refuse'],
  ['Connection: Transfer-Encoding', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: Transfer-Encoding\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['Connection: close, content-length', `POST /a HTTP/1.1\r\n${H}Content-Length: 5\r\nConnection: close, content-length\r\n\r\nhello`, 'refuse'],
  ['Connection: Host', `GET /a HTTP/1.1\r\n${H}Connection: Host\r\n\r\n`, 'refuse'],
  ['Connection: X-Forwarded-For', `GET /a HTTP/1.1\r\n${H}X-Forwarded-For: 10.0.0.1\r\nConnection: X-Forwarded-For\r\n\r\n`, 'refuse'],
  ['Connection: X-Forwarded-Host', `GET /a HTTP/1.1\r\n${H}Connection: x-forwarded-host\r\n\r\n`, 'refuse'],
  ['Connection: Forwarded', `GET /a HTTP/1.1\r\n${H}Connection: Forwarded\r\n\r\n`, 'refuse'],
  ['Connection in two headers, the second naming Content-Length', `POST /a HTTP/1.1\r\n${H}Content-Length: 5\r\nConnection: keep-alive\r\nConnection: Content-Length\r\n\r\nhello`, 'refuse'],
  // Odd bytes in heads.
  ['a NUL in a header value', `GET /a HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n`, 'refuse'],
  ['a NUL in a header name', `GET /a HTTP/1.1\r\n${H}X-\0A: b\r\n\r\n`, 'refuse'],
  ['a NUL in the target', `GET /a\0b HTTP/1.1\r\n${H}\r\n`, 'refuse'],
  ['a NUL in the method', `G\0ET /a HTTP/1.1\r\n${H}\r\n`, 'refuse'],
  ['a bare CR inside a header value', `POST /a HTTP/1.1\r\n${H}X-A: 1\rTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello`, 'refuse'],
  ['a bare CR ending a header line', `GET /a HTTP/1.1\r\nHost: shop.localhost\r\r\n\r\n`, 'refuse'],
  ['a bare LF ending a header line', `GET /a HTTP/1.1\r\n${H}X-A: 1\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'refuse'],
  ['two Host headers', `GET /a HTTP/1.1\r\n${H}Host: other.localhost\r\n\r\n`, 'refuse'],
  ['two spaces in the request line', `GET  /a HTTP/1.1\r\n${H}\r\n`, 'refuse'],
  ['a tab in the request line', `GET /a\tHTTP/1.1\r\n${H}\r\n`, 'refuse'],
  ['a space after the version', `GET /a HTTP/1.1 \r\n${H}\r\n`, 'refuse'],
  ['a lower-case version', `GET /a http/1.1\r\n${H}\r\n`, 'refuse'],
  // Chunked bodies that are not.
  ['a chunk size with a 0x prefix', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['a chunk size with a leading space', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['a chunk longer than its size', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['a chunk size ending in a bare LF', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['a chunk size too large to be exact', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['a negative chunk size', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['a space before a chunk extension', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 ;a=b\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['a raw byte in a chunk extension', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;\xf0=1\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['a quoted chunk extension value', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a="b;c"\r\nhello\r\n0\r\n\r\n`, { size: 5 }],
  ['a quote inside a chunk extension name', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;x"=1\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['a chunk extension with no name', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;=1\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['bytes after a quoted chunk extension value', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a="b"c\r\nhello\r\n0\r\n\r\n`, 'refuse'],
  ['chunk extensions, a name alone and a token value', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a;b=c\r\nhello\r\n0\r\n\r\n`, { size: 5 }],
  ['a trailer line without a colon', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\ntrailer 1\r\n\r\n`, 'refuse'],
  ['a trailer name with a control character', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\ntrai\x08ler: 1\r\n\r\n`, 'refuse'],
  ['a trailer line ending in a bare LF', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx: 1\n\r\n`, 'refuse'],
  ['a trailer line ending in a bare CR', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx: 1\rxy: 2\r\n\r\n`, 'refuse'],
  ['a second trailer line without a colon', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx: 1\r\ntrailer 2\r\n\r\n`, 'refuse'],
];

/** True for an answer that refuses a request: a 4xx, or 501/505 for what is not implemented. */
const refusal = (status: number) => (status >= 400 && status < 500) || status === 501 || status === 505;

describe('ambiguous requests through the router: refused, or read one way only', () => {
  it.each(cases)('%s', async (_name, raw, expected) => {
    const app = await recordingApp(cleanups);
    const { router, logged } = await routerFor(cleanups, app.port);
    const client = rawClient(cleanups, router.port);
    client.write(raw);
    await client.until(() => client.answers().length >= 1);
    // Still open after an answer: the next request on the connection must be read as itself.
    if (!client.closed && client.answers().length === 1) {
      client.write(FOLLOW);
      await client.until(() => client.answers().length >= 2);
    }
    await sleep(50);
    const got = client.answers();
    const traffic = router.traffic.drain();
    expect(logged, 'the router met no bug').toEqual([]);
    expect(got.length, `an answer: ${JSON.stringify(client.text().slice(0, 200))}`).toBeGreaterThanOrEqual(1);
    if (expected === 'refuse') {
      expect(refusal(got[0]!.status), got[0]!.head).toBe(true);
      expect(got[0]!.head).toMatch(/\r\nconnection: close/i);
      await client.until(() => false, 1000);
      expect(client.closed, 'the router closes the connection').toBe(true);
      expect(got).toHaveLength(1);
      expect(app.rawBytes, 'not a byte reached the app').toBe(0);
      return;
    }
    // Forwarded: the app read exactly the requests the client got answers for, each answer its own.
    expect(got[0]!.status, got[0]!.head).toBe(200);
    expect(app.parseErrors, 'the app read what the router sent without a parse error').toEqual([]);
    expect(app.seen.map((seen) => seen.url)).toEqual(got.map((answer) => JSON.parse(answer.body).url));
    expect(app.seen[0]!.url).toBe('/a');
    expect(app.seen[0]!.size).toBe(expected.size);
    expect(app.seen.slice(1).map((seen) => seen.url)).toEqual(got.length > 1 ? ['/follow'] : []);
    // Both read the body as the same bytes: the app's wire bytes less its heads are what the router counted.
    const heads = app.seen.reduce((sum, seen) => sum + seen.headBytes, 0);
    const bytesIn = traffic.reduce((sum, sample) => sum + sample.bytesIn, 0);
    expect(app.rawBytes - heads).toBe(bytesIn);
  });
});

describe('response-queue poisoning', () => {
  it('an attacker who hides a request in a body named in Connection never gets a victim on another connection its answer', async () => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port);
    const smuggled = `GET /SMUGGLED HTTP/1.1\r\nHost: shop.localhost\r\n\r\n`;
    for (let round = 0; round < 10; round++) {
      const attacker = rawClient(cleanups, router.port);
      attacker.write(`POST /attacker HTTP/1.1\r\n${H}Content-Length: ${smuggled.length}\r\nConnection: keep-alive, Content-Length\r\n\r\n${smuggled}`);
      attacker.write(`GET /attacker-next HTTP/1.1\r\n${H}\r\n`);
      const victim = rawClient(cleanups, router.port);
      for (let i = 0; i < 5; i++) {
        victim.write(`GET /victim-${round}-${i} HTTP/1.1\r\n${H}\r\n`);
        expect(await victim.until(() => victim.answers().length > i)).toBe(true);
        expect(JSON.parse(victim.answers()[i]!.body).url).toBe(`/victim-${round}-${i}`);
      }
      await attacker.until(() => false, 100);
      expect(attacker.text()).not.toContain('/victim');
      expect(attacker.text()).not.toContain('SMUGGLED"');
      victim.socket.destroy();
      attacker.socket.destroy();
    }
    expect(app.seen.map((seen) => seen.url).filter((url) => !url.startsWith('/victim'))).toEqual([]);
  });
});
