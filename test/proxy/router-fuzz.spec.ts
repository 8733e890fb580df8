import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { rawClient, recordingApp, routerFor, sleep, type Cleanups } from './wire.js';

// Valid requests, mutated (bytes flipped, inserted, deleted, cut short) and
// written in random pieces: every one gets a status line or a close within
// the deadlines, the router logs no bug, and a well-behaved client on
// another connection keeps getting its own answers all along.

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const H = 'Host: shop.localhost\r\n';
const SEEDS = [
  `GET /a?x=1 HTTP/1.1\r\n${H}Accept: */*\r\n\r\n`,
  `POST /form HTTP/1.1\r\n${H}Content-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world`,
  `POST /up HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\ntrailer: 1\r\n\r\n`,
  `GET /one HTTP/1.1\r\n${H}\r\nGET /two HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
  `GET http://shop.localhost/abs HTTP/1.1\r\n${H}\r\n`,
  `PUT /x HTTP/1.0\r\n${H}Content-Length: 3\r\n\r\nabc`,
  `GET /ws HTTP/1.1\r\n${H}Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n`,
];
/** Bytes that matter to framing, more likely than any other. */
const SPECIAL = [0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x2c, 0x0b, 0x30, 0x35, 0x66, 0x2d, 0x7f, 0xa0];

type Mutation = { kind: 'flip' | 'insert' | 'delete' | 'cut'; at: number; byte: number };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'insert', 'delete', 'cut'),
  at: fc.nat(),
  byte: fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 })),
});

function mutate(seed: string, mutations: Mutation[]): Buffer {
  let bytes = [...Buffer.from(seed, 'latin1')];
  for (const { kind, at, byte } of mutations) {
    if (bytes.length === 0) break;
    const i = at % bytes.length;
    if (kind === 'flip') bytes[i] = byte;
    else if (kind === 'insert') bytes.splice(i, 0, byte);
    else if (kind === 'delete') bytes.splice(i, 1);
    else bytes = bytes.slice(0, Math.max(1, i));
  }
  return Buffer.from(bytes);
}

/** Cuts buffer into pieces of the given sizes (the last takes the rest). */
function pieces(buffer: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= buffer.length) break;
    out.push(buffer.subarray(at, at + size));
    at += size;
  }
  if (at < buffer.length) out.push(buffer.subarray(at));
  return out;
}

describe('router fuzzing', () => {
  it('answers every mutated request with a status line or a close, while a well-formed client is served throughout', async () => {
    const app = await recordingApp(cleanups);
    const { router, logged } = await routerFor(cleanups, app.port, { headTimeoutMs: 60, idleTimeoutMs: 60, holdTimeoutMs: 500 });

    // The bystander: keep-alive requests, one after another, each checked against its own path.
    // Like a browser, it sends a request again when a kept-alive connection turns out to have been
    // closed by the idle deadline just as it was reused (Node's documented keep-alive race).
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    let running = true;
    let served = 0;
    let retried = 0;
    const wrong: string[] = [];
    const get = (path: string) =>
      new Promise<{ body: string; staleReuse: boolean }>((resolve) => {
        const req = request({ host: '127.0.0.1', port: router.port, path, headers: { host: 'shop.localhost' }, agent }, (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ body: text, staleReuse: false }));
        });
        req.on('error', (error: NodeJS.ErrnoException) => resolve({ body: `error ${error.message}`, staleReuse: req.reusedSocket && error.code === 'ECONNRESET' }));
        req.end();
      });
    const bystander = (async () => {
      while (running) {
        const path = `/bystander/${served}`;
        let answer = await get(path);
        if (answer.staleReuse) {
          retried++;
          answer = await get(path);
        }
        if (!answer.body.includes(`"url":"${path}"`)) wrong.push(answer.body.slice(0, 120));
        served++;
      }
    })();

    const runs = Number(process.env.FUZZ_RUNS ?? 300);
    const unanswered: string[] = [];
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SEEDS),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 24 }), { maxLength: 6 }),
        fc.boolean(),
        async (seed, mutations, sizes, halfClose) => {
          cases++;
          const client = rawClient(cleanups, router.port);
          for (const piece of pieces(mutate(seed, mutations), sizes)) {
            client.write(piece);
            await new Promise((resolve) => setImmediate(resolve));
          }
          if (halfClose) client.socket.end();
          // A status line, or a close, within the head and idle deadlines (with room for a loaded machine).
          const started = Date.now();
          const answered = await client.until(() => client.text().length >= 12, 3000);
          const text = client.text();
          client.socket.destroy();
          if (answered && (text === '' || /^HTTP\/1\.1 [1-5]\d\d /.test(text))) return true;
          unanswered.push(`${answered ? 'answered' : 'no answer'} after ${Date.now() - started} ms: ${JSON.stringify(text.slice(0, 100))}`);
          return false;
        },
      ),
      { numRuns: runs, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: !process.env.FUZZ_SHRINK },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${unanswered.join('\n')}\nrouter log: ${logged.join('\n')}`);
    });
    running = false;
    await bystander;
    expect(cases).toBe(runs);
    expect(logged, 'the router met no bug').toEqual([]);
    expect(wrong).toEqual([]);
    // Whatever the router forwarded, the app's own parser framed the same way. (Node knows only its
    // own list of methods, and a message the router cut off when its client left ends early: neither is a
    // disagreement about where a message ends.)
    expect(app.parseErrors.filter((error) => !/^HPE_(INVALID_METHOD|INVALID_EOF_STATE):/.test(error))).toEqual([]);
    expect(served).toBeGreaterThan(10);
    expect(retried).toBeLessThan(served / 4);
    // The router is still itself.
    const client = rawClient(cleanups, router.port);
    client.write(`GET /last HTTP/1.1\r\n${H}\r\n`);
    expect(await client.until(() => client.answers().length === 1)).toBe(true);
    expect(JSON.parse(client.answers()[0]!.body).url).toBe('/last');
  }, 600_000);
});
