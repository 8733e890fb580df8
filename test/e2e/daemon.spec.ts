import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, apiRequest, CliProcess, runCli, sleep, tempHome, until, stopDaemonAndRemove, getByHost } from '../helpers/cli.js';
import { userToken } from '../helpers/auth.js';

// The daemon: several projects behind one router, the API on a Unix socket.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function project(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-daemon-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${name}\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('${name} ' + process.pid)).listen(process.env.PORT, '127.0.0.1')"\n`);
  return dir;
}

function daemonHome(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(() => stopDaemonAndRemove(home, cleanup));
  return home;
}

function api(home: string, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; json: any }> {
  return apiRequest(join(home, 'paasmaker.sock'), method, path, options);
}


/** The app processes' pids, from the API. */
async function pids(home: string): Promise<number[]> {
  return ((await api(home, 'GET', '/api/v1/processes')).json as Array<{ pid: number | null }>).map((row) => row.pid).filter((pid): pid is number => pid !== null);
}

describe('the daemon', () => {
  it('runs two projects behind one router, lists them over the API, and survives kill -9 without orphans', async () => {
    const home = daemonHome();
    const a = await runCli(['up', '-d', project('alpha')], { home });
    expect(a.exitCode, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/alpha is up in \d+ ms: https:\/\/alpha\.localhost:\d+\/ \(or http:\/\/alpha\.localhost:\d+\/\)/);
    const b = await runCli(['up', '-d', project('beta')], { home });
    expect(b.exitCode, b.stderr).toBe(0);

    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout);
    expect(status).toMatchObject({ socket: join(home, 'paasmaker.sock'), apps: ['alpha', 'beta'] });
    expect(status.pid).toBeGreaterThan(0);
    expect(await getByHost(status.proxyPort, 'alpha.localhost')).toMatch(/^alpha /);
    expect(await getByHost(status.proxyPort, 'beta.localhost')).toMatch(/^beta /);
    const apps = (await api(home, 'GET', '/api/v1/apps')).json as Array<{ name: string; state: string }>;
    expect(apps.map((app) => [app.name, app.state])).toEqual([['alpha', 'running'], ['beta', 'running']]);

    const jobs = JSON.parse((await runCli(['jobs', '--json'], { home })).stdout) as Array<{ title: string; state: string }>;
    expect(jobs.filter((job) => job.title.startsWith('up ')).map((job) => [job.title, job.state]).sort()).toEqual([['up alpha', 'success'], ['up beta', 'success']]);

    const before = await pids(home);
    expect(before).toHaveLength(2);
    process.kill(status.pid, 'SIGKILL');
    await until(() => before.every((pid) => !alive(pid)), 2000, 'every app process to die with the daemon');

    // How fast is bench/startup.mjs's to measure; here: they come back, on the same port.
    const again = await runCli(['daemon', 'start'], { home });
    expect(again.exitCode, again.stderr).toBe(0);
    await until(async () => (await getByHost(status.proxyPort, 'alpha.localhost').catch(() => '')).startsWith('alpha') && (await getByHost(status.proxyPort, 'beta.localhost').catch(() => '')).startsWith('beta'), 20_000, 'both apps back on the same port');
  });

  it('serves an OpenAPI 3.1 document that its own answers validate against', async () => {
    const home = daemonHome();
    expect((await runCli(['up', '-d', project('gamma')], { home })).exitCode).toBe(0);
    const doc = (await api(home, 'GET', '/api/v1/openapi.json')).json;
    expect(doc.openapi).toBe('3.1.0');
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema({ $id: 'paasmaker', components: doc.components });
    const check = async (method: string, path: string, template: string, body?: unknown) => {
      const answer = await api(home, method, path, { body });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      const schema = JSON.parse(JSON.stringify(doc.paths[template][method.toLowerCase()].responses['200'].content['application/json'].schema).replace(/#\/components/g, 'paasmaker#/components'));
      const valid = ajv.validate(schema, answer.json);
      expect(valid, `${method} ${path}: ${ajv.errorsText()}`).toBe(true);
    };
    await check('GET', '/api/v1/status', '/api/v1/status');
    await check('GET', '/api/v1/apps', '/api/v1/apps');
    await check('GET', '/api/v1/apps/gamma', '/api/v1/apps/{app}');
    await check('GET', '/api/v1/processes', '/api/v1/processes');
    await check('GET', '/api/v1/services', '/api/v1/services');
    await check('GET', '/api/v1/stats', '/api/v1/stats');
    await check('GET', '/api/v1/apps/gamma/instances', '/api/v1/apps/{app}/instances');
    await check('GET', '/api/v1/apps/gamma/logs?lines=20', '/api/v1/apps/{app}/logs');
    await check('GET', '/api/v1/jobs', '/api/v1/jobs');
    await check('POST', '/api/v1/apps/gamma/scale', '/api/v1/apps/{app}/scale', { instance: 'web', quantity: 2 });
    // A request the schema refuses gets a JSON error with a code.
    const bad = await api(home, 'POST', '/api/v1/apps/gamma/scale', { body: { instance: 'web', quantity: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'INVALID_REQUEST' });
    const missing = await api(home, 'GET', '/api/v1/apps/nope');
    expect(missing).toMatchObject({ status: 404, json: { code: 'APP_NOT_FOUND' } });
  });

  it('streams events in order over SSE, and refuses foreign origins and hosts', async () => {
    const home = daemonHome();
    expect((await runCli(['up', '-d', project('delta')], { home })).exitCode).toBe(0);
    const frames: Array<{ id: number; event: string; data: any }> = [];
    const stream = request({ socketPath: join(home, 'paasmaker.sock'), path: '/api/v1/events', headers: { host: 'localhost' } });
    cleanups.push(() => void stream.destroy());
    await new Promise<void>((resolve) => {
      stream.on('response', (res) => {
        let buffer = '';
        res.on('data', (chunk) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const fields = Object.fromEntries(frame.split('\n').filter((line) => !line.startsWith(':')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
            if (fields.event) frames.push({ id: Number(fields.id), event: fields.event, data: JSON.parse(fields.data) });
          }
        });
        resolve();
      });
      stream.end();
    });
    await sleep(100);
    expect((await api(home, 'POST', '/api/v1/apps/delta/restart', { body: {} })).json).toEqual({ ok: true });
    await until(() => frames.some((frame) => frame.event === 'job.update' && frame.data.state === 'success'), 5000, 'the reload to finish');
    const ids = frames.map((frame) => frame.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    const jobs = frames.filter((frame) => frame.event === 'job.update').map((frame) => frame.data.state);
    expect(jobs.indexOf('running')).toBeLessThan(jobs.indexOf('success'));
    expect(frames.some((frame) => frame.event === 'instance.state' && frame.data.app === 'delta')).toBe(true);

    expect((await api(home, 'GET', '/api/v1/apps', { headers: { origin: 'http://evil.example' } })).status).toBe(403);
    expect((await api(home, 'GET', '/api/v1/apps', { headers: { host: 'evil.example' } })).status).toBe(403);
    expect((await api(home, 'GET', '/api/v1/apps', { headers: { origin: 'http://localhost' } })).status).toBe(200);
  });

  it('lets a foreground up join the daemon: its lines stream here, and killing it stops only its project', async () => {
    const home = daemonHome();
    expect((await runCli(['up', '-d', project('kept')], { home })).exitCode).toBe(0);
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout);
    const up = new CliProcess(['up', project('held')], { home });
    cleanups.push(() => up.kill());
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/held\.localhost:(\d+)\//);
    expect(up.output).toContain(`running held in the daemon (pid ${status.pid})`);
    expect(up.output).toMatch(/web\.0 running on http:\/\/127\.0\.0\.1:\d+\//);
    expect(await getByHost(status.proxyPort, 'held.localhost')).toMatch(/^held /);
    const held = ((await api(home, 'GET', '/api/v1/processes?app=held')).json as Array<{ pid: number | null }>).map((row) => row.pid!).filter(Boolean);
    expect(held).toHaveLength(1);
    up.kill();
    await until(() => held.every((pid) => !alive(pid)), 2000, "the held project's processes to stop");
    expect(await getByHost(status.proxyPort, 'kept.localhost')).toMatch(/^kept /);
    expect((JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { apps: string[] }).apps).toEqual(['kept']);
  });

  it("serves the API on 127.0.0.1 only to a user's API token, which is stored hashed", async () => {
    const home = daemonHome();
    const started = await runCli(['daemon', 'start', '--api-port', '0'], { home });
    expect(started.exitCode, started.stderr).toBe(0);
    const port = (JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { apiPort: number }).apiPort;
    const token = await userToken(home, 'ops', 'admin');
    expect(token).toMatch(/^pm_[A-Za-z0-9_-]{43}$/);
    const { existsSync, readdirSync } = await import('node:fs');
    expect(existsSync(join(home, 'api-token'))).toBe(false);
    // Only its sha256 is kept: not in state.db, nor in its write-ahead log.
    const stateFiles = readdirSync(home).filter((name) => name.startsWith('state.db'));
    expect(stateFiles.length).toBeGreaterThan(0);
    for (const name of stateFiles) expect(readFileSync(join(home, name)).includes(token), name).toBe(false);
    const call = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/api/v1/apps', headers }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await call({})).toBe(401);
    expect(await call({ authorization: 'Bearer wrong' })).toBe(401);
    expect(await call({ authorization: `Bearer ${token}` })).toBe(200);
  });
});
