import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Platform, type InstanceStateEvent, type JobUpdateEvent } from '../../src/engine/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { alive, sleep, tempHome, until } from '../helpers/cli.js';

// Rolling reloads in process, as the README promises them: no process stops
// before its successor is ready and the requests it has in flight are answered;
// a successor that fails leaves the old one serving.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// An app that says which process answered; /slow answers after 700 ms; a WebSocket-like
// upgrade is accepted, and the tunnel says bye and closes when the client writes "done". With a file "broken" beside
// it, a new process exits at once; with a file "slow-start", it listens only after 5 s.
const SERVER = `
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
if (existsSync(new URL('./broken', import.meta.url))) { console.error('refusing to start: broken'); process.exit(3); }
if (existsSync(new URL('./slow-start', import.meta.url))) await new Promise((resolve) => setTimeout(resolve, 5000));
const server = createServer((req, res) => {
  const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end('pid ' + process.pid + '\\n');
  if (req.url === '/slow') setTimeout(answer, 700); else answer();
});
server.on('upgrade', (req, socket) => {
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: echo\\r\\nConnection: Upgrade\\r\\n\\r\\n');
  socket.write('pid ' + process.pid + '\\n');
  socket.on('data', (data) => { if (String(data).includes('done')) socket.end('bye\\n'); });
});
server.listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
`;

// The same app stopping as Node servers usually do: on SIGTERM it stops listening, closes its idle
// connections and exits once the others are done. /slow?ms=N answers after N ms.
const GRACEFUL = `
import { createServer } from 'node:http';
const server = createServer((req, res) => {
  const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 0);
  setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('pid ' + process.pid + '\\n'), ms);
});
server.listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

async function openApp(quantity = 1, source = SERVER) {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  const dir = mkdtempSync(join(tmpdir(), 'pm-rolling-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'server.mjs'), source);
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: roll\ninstances:\n  web:\n    command: node server.mjs\n    quantity: ${quantity}\n`);
  const platform = await Platform.open({ home, proxy: { port: 0 } });
  cleanups.push(() => platform.close());
  const jobs: JobUpdateEvent[] = [];
  const states: InstanceStateEvent[] = [];
  platform.on('job.update', (event) => jobs.push(event));
  platform.on('instance.state', (event) => states.push(event));
  await platform.apply(loadManifest(dir));
  const get = (path = '/') => answer(platform.routerPort!, path);
  return { platform, dir, jobs, states, get, pids: () => platform.processes('roll').map((row) => row.pid!) };
}

function answer(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: 'roll.localhost' }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const pidOf = (body: string) => Number(/pid (\d+)/.exec(body)?.[1]);

describe('a rolling reload', () => {
  it('answers a request in flight from the old process, then stops it; new requests reach only the successors', { timeout: 30_000 }, async () => {
    const { platform, get, pids, states } = await openApp(2);
    const old = pids();
    expect(old).toHaveLength(2);
    const slow = get('/slow');
    await sleep(100);
    const reloaded = platform.reload('roll', { reason: 'test' });
    const slowAnswer = await slow;
    expect(slowAnswer.status).toBe(200);
    expect(old).toContain(pidOf(slowAnswer.body));
    expect(await reloaded).toBe(true);
    const fresh = pids();
    expect(fresh).toHaveLength(2);
    for (const pid of fresh) expect(old).not.toContain(pid);
    // Each successor is announced running, with its pid, as the faces show it.
    for (const [index, pid] of platform.processes('roll').map((row) => [row.index, row.pid] as const)) {
      expect(states).toContainEqual(expect.objectContaining({ app: 'roll', instance: 'web', index, state: 'running', pid }));
    }
    // The router sends nothing more to the old ones: every answer comes from a successor.
    const seen = new Set<number>();
    for (let n = 0; n < 10; n++) {
      const { status, body } = await get();
      expect(status).toBe(200);
      seen.add(pidOf(body));
    }
    expect([...seen].sort()).toEqual([...fresh].sort());
    for (const pid of old) await until(() => !alive(pid), 5000, 'an old process to stop');
  });

  it('keeps the old process until its request in flight is answered', { timeout: 30_000 }, async () => {
    const { platform, get, pids } = await openApp();
    const [old] = pids();
    const slow = get('/slow');
    await sleep(100);
    const started = Date.now();
    expect(await platform.reload('roll')).toBe(true);
    // The reload finishes only once the old process answered and stopped: not before the 700 ms answer.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(await slow).toMatchObject({ status: 200, body: `pid ${old}\n` });
    expect(alive(old!)).toBe(false);
  });

  it('stops the old process as soon as it has nothing in flight', { timeout: 30_000 }, async () => {
    const { platform, get, pids } = await openApp();
    const [old] = pids();
    const reloaded = platform.reload('roll');
    // From the moment the successor serves, the old process (no request, no tunnel) goes at once:
    // not after the 2 s a tunnel would get, nor the 10 s a request in flight would.
    await until(async () => pidOf((await get()).body) !== old, 10_000, 'the successor to serve');
    const servedAt = Date.now();
    await until(() => !alive(old!), 10_000, 'the old process to stop');
    expect(Date.now() - servedAt).toBeLessThan(1500);
    expect(await reloaded).toBe(true);
  });

  it('closes its kept-alive connection to an old process that outlived the drain as soon as its last answer is sent', { timeout: 30_000 }, async () => {
    const { platform, get, pids } = await openApp(1, GRACEFUL);
    const [old] = pids();
    // Longer than the 10 s a reload waits for requests in flight: the old process is told to stop while it answers.
    let answeredAt = 0;
    const slow = get('/slow?ms=12000').then((answer) => ((answeredAt = Date.now()), answer));
    await sleep(100);
    expect(await platform.reload('roll')).toBe(true);
    const stoppedAt = Date.now();
    expect(await slow).toMatchObject({ status: 200, body: `pid ${old}\n` });
    expect(alive(old!)).toBe(false);
    // Its server exits once its last connection closes: the router closes it after that answer, rather than
    // keeping it in the pool until its idle timeout (4 s) while the stopped process waits, until killed.
    expect(stoppedAt - answeredAt).toBeLessThan(1500);
  });

  it('lets an open tunnel finish before the old process stops', { timeout: 30_000 }, async () => {
    const { platform, get, pids } = await openApp();
    const [old] = pids();
    const socket = connect(platform.routerPort!, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    socket.on('error', () => {});
    socket.write('GET /ws HTTP/1.1\r\nHost: roll.localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    await until(() => received.includes(`pid ${old}`), 5000, 'the tunnel to open');
    const reloaded = platform.reload('roll');
    // The successor serves new requests; the old process still has the tunnel, which ends when its client is done.
    const fresh = await until(async () => {
      const pid = pidOf((await get()).body);
      return pid !== old ? pid : undefined;
    }, 10_000, 'the successor to serve');
    // From then on the old process gets no new request, though it is still up for its tunnel.
    for (let n = 0; n < 6; n++) expect(pidOf((await get()).body)).toBe(fresh);
    await sleep(200);
    expect(alive(old!)).toBe(true);
    socket.write('done\n');
    await until(() => received.includes('bye'), 5000, 'the app to end the tunnel');
    expect(await reloaded).toBe(true);
    expect(alive(old!)).toBe(false);
  });

  it('leaves the old process serving when the successor fails, and says why', { timeout: 30_000 }, async () => {
    const { platform, dir, jobs, get, pids } = await openApp();
    const [old] = pids();
    writeFileSync(join(dir, 'broken'), '');
    expect(await platform.reload('roll', { reason: 'test' })).toBe(false);
    const failed = jobs.find((job) => job.title === 'reload web' && job.state === 'failed');
    expect(failed?.detail).toMatch(/^the new web exited with code 3; the previous version keeps serving\n/);
    expect(failed?.detail).toContain('refusing to start: broken');
    // Still the old process, alone: the failed successor is gone from the listing and the router.
    expect(pids()).toEqual([old]);
    for (let n = 0; n < 3; n++) expect(await get()).toMatchObject({ status: 200, body: `pid ${old}\n` });
    expect(alive(old!)).toBe(true);

    // Fixed: nothing of the failed attempt comes back on its own (no restart of the failed successor)…
    rmSync(join(dir, 'broken'));
    await sleep(2500);
    for (let n = 0; n < 4; n++) expect(await get()).toMatchObject({ status: 200, body: `pid ${old}\n` });
    // …and the next reload goes through.
    expect(await platform.reload('roll')).toBe(true);
    const [fresh] = pids();
    expect(fresh).not.toBe(old);
    expect(await get()).toMatchObject({ status: 200, body: `pid ${fresh}\n` });
  });

  it('stops successors still starting when files change again, and the next reload takes over at once', { timeout: 30_000 }, async () => {
    const { platform, dir, jobs, get, pids } = await openApp();
    const [old] = pids();
    writeFileSync(join(dir, 'slow-start'), '');
    const first = platform.reload('roll', { reason: 'paasmaker.yml changed:\n+ GREETING=hello' });
    await until(() => jobs.some((job) => job.title === 'reload web' && job.state === 'running'), 5000, 'the first reload to start');
    await sleep(300);
    // The save that fixes it: without superseding, this reload would wait out the first one's 5 s start and its switch.
    rmSync(join(dir, 'slow-start'));
    const started = Date.now();
    const second = platform.reload('roll', { reason: 'server.mjs changed' });
    expect(await first).toBe(false);
    expect(await second).toBe(true);
    expect(Date.now() - started).toBeLessThan(4000);
    const reloads = jobs.filter((job) => job.title === 'reload web' && ['success', 'failed', 'aborted'].includes(job.state));
    expect(reloads.map((job) => job.state)).toEqual(['aborted', 'success']);
    expect(reloads[0]!.detail).toBe('files changed again while the new processes started: the next reload takes over');
    // The reload that took over tells what the stopped one was for too (an environment diff is told once).
    const takingOver = jobs.find((job) => job.id === reloads[1]!.id && job.state === 'running');
    expect(takingOver?.detail).toBe('paasmaker.yml changed:\n+ GREETING=hello\nserver.mjs changed');
    const [fresh] = pids();
    expect(fresh).not.toBe(old);
    expect(await get()).toMatchObject({ status: 200, body: `pid ${fresh}\n` });
    await until(() => !alive(old!), 5000, 'the old process to stop');
    // The stopped successor left nothing running: one process serves the app.
    expect(pids()).toEqual([fresh]);
  });

  it('answers every request of a steady stream across two reloads', { timeout: 30_000 }, async () => {
    const { platform, get } = await openApp();
    let stop = false;
    const failures: string[] = [];
    let answered = 0;
    const load = (async () => {
      while (!stop) {
        try {
          const { status } = await get();
          if (status === 200) answered++;
          else failures.push(`status ${status}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    })();
    await sleep(100);
    expect(await platform.reload('roll')).toBe(true);
    expect(await platform.reload('roll')).toBe(true);
    await sleep(100);
    stop = true;
    await load;
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(10);
  });
});
