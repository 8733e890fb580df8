import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/services/binaries.js';
import { CliProcess, examples, sleep, tempHome } from '../helpers/cli.js';
import { processesUnder } from '../helpers/processes.js';

// The examples with services, run as a user would: paasmaker up, then the browser's requests through the router.
const missing = ['initdb', 'postgres', 'psql', 'redis-server'].filter((binary) => !findBinary([binary]));
const skip = missing.length > 0 && process.env.CI !== 'true';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(example: string): Promise<{ port: number; up: CliProcess }> {
  const { home, cleanup } = tempHome();
  const up = new CliProcess(['up', join(examples, example)], { home });
  cleanups.push(async () => {
    up.signal('SIGINT');
    await up.wait(20_000).catch(() => up.kill());
    for (let i = 0; i < 100 && processesUnder(home).length > 0; i++) await sleep(50);
    cleanup();
  });
  // The URL line comes just after "is up": wait for it, not for the line before.
  await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/[a-z0-9-]+\.localhost:\d+\//, 120_000);
  const port = Number(/open (?:https:\/\/\S+ \(or )?http:\/\/[a-z0-9-]+\.localhost:(\d+)\//.exec(up.output)?.[1]);
  return { port, up };
}

function call(port: number, host: string, path: string, options: { method?: string; body?: string; type?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host, 'content-type': options.type ?? 'application/json', accept: 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe.skipIf(skip)('examples with services', () => {
  it('notes: Python and SQLite, a note written and read back through the router', async () => {
    const { port } = await start('notes');
    const created = await call(port, 'notes.localhost', '/notes', { method: 'POST', body: JSON.stringify({ body: 'buy milk' }) });
    expect(created.status).toBe(201);
    const list = JSON.parse((await call(port, 'notes.localhost', '/notes.json')).body) as Array<{ body: string }>;
    expect(list.map((note) => note.body)).toContain('buy milk');
  });

  it('counter-redis: Node and the managed Redis count visits', async () => {
    const { port } = await start('counter-redis');
    await call(port, 'counter-redis.localhost', '/');
    await call(port, 'counter-redis.localhost', '/');
    expect(JSON.parse((await call(port, 'counter-redis.localhost', '/count')).body)).toEqual({ visits: 2 });
  });

  it('guestbook-pg: Node, pg from npm, and the managed PostgreSQL', async () => {
    const { port } = await start('guestbook-pg');
    const created = await call(port, 'guestbook-pg.localhost', '/entries', { method: 'POST', body: JSON.stringify({ name: 'Ada', message: 'hello' }) });
    expect(created.status, created.body).toBe(201);
    const list = JSON.parse((await call(port, 'guestbook-pg.localhost', '/entries.json')).body) as Array<{ name: string }>;
    expect(list.map((entry) => entry.name)).toContain('Ada');
  }, 180_000);
});
