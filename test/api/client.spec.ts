import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callApi, followEvents } from '../../src/api/client.js';
import { isPaasmakerError } from '../../src/shared/errors.js';
import { until } from '../helpers/cli.js';
import { listenOnSocket } from '../helpers/servers.js';

// The CLI's side of the API: a Paasmaker that answers badly, or goes away mid-answer, is an error it reports, not a crash.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(handler: (res: ServerResponse) => void): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pm-client-'));
  const socket = join(dir, 'api.sock');
  const server = createServer((_req, res) => handler(res));
  cleanups.push((await listenOnSocket(server, socket)).close);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return socket;
}

describe('the API client', () => {
  it('an event stream with a frame that is not JSON, or not an engine event: the frame is skipped, the next events arrive, and its end is reported once the server goes', async () => {
    const socket = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 1\nevent: log.line\ndata: {not json\n\n');
      res.write('id: 1\nevent: surprise\ndata: {"line":"not an event"}\n\n');
      res.write('id: 2\nevent: log.line\ndata: {"line":"hello"}\n\n');
      setTimeout(() => res.destroy(), 50);
    });
    const events: unknown[] = [];
    let closed = false;
    followEvents(socket, { app: 'shop' }, (event, payload) => events.push([event, payload]), () => (closed = true));
    await until(() => closed, 5000, 'the stream to end');
    expect(events).toEqual([['log.line', { line: 'hello' }]]);
  });

  it('a server that dies mid-answer: callApi rejects with an error the CLI reports (exit 1), not a crash', async () => {
    const socket = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
      res.write('{"name":');
      setTimeout(() => res.destroy(), 30);
    });
    const error = await callApi(socket, 'GET', '/api/v1/status').catch((caught: unknown) => caught);
    expect(isPaasmakerError(error)).toBe(true);
    expect((error as Error).message).toMatch(/went away mid-answer|could not reach/);
  });
});
