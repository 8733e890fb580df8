import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RequestRecordSchema } from '../../src/shared/views.js';
import { apiRequest, CliProcess, runCli, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';

// paasmaker requests, the API and the event stream against a real daemon, its
// router and a real app: what a developer sees of the requests their app got.

const Records = z.array(RequestRecordSchema.strict());
const SECRETS = ['COOKIE-VALUE-5b1e', 'BEARER-VALUE-c9d2', 'SET-COOKIE-VALUE-77aa'];
/** Requests the daemon keeps per app here (PAASMAKER_REQUEST_LOG): small, so the bound is reached quickly. */
const KEPT = 20;

let home: string;
let project: string;
let socket: string;
let routerPort: number;
let cleanup: () => Promise<void>;

/** A request through the router to the app, as curl would send it. */
function send(path: string, options: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: routerPort, path, method: options.method ?? 'GET', agent: false, headers: { host: 'inspected.localhost', ...options.headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, setCookie: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const withSecrets = { cookie: `sid=${SECRETS[0]}`, authorization: `Bearer ${SECRETS[1]}` };

async function records(query = ''): Promise<z.infer<typeof Records>> {
  const answer = await apiRequest(socket, 'GET', `/api/v1/apps/inspected/requests${query}`);
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  return Records.parse(answer.json);
}

beforeAll(async () => {
  const temp = tempHome();
  home = temp.home;
  socket = join(home, 'paasmaker.sock');
  project = mkdtempSync(join(tmpdir(), 'pm-requests-'));
  writeFileSync(
    join(project, 'paasmaker.yml'),
    [
      'application:',
      '  name: inspected',
      'instances:',
      '  web:',
      `    command: node -e "require('http').createServer((q, s) => { q.resume(); q.on('end', () => { s.setHeader('set-cookie', 'session=${SECRETS[2]}; HttpOnly'); s.end('ANSWER-BODY-31f0') }) }).listen(process.env.PORT, '127.0.0.1')"`,
      '',
    ].join('\n'),
  );
  cleanup = async () => {
    await stopDaemonAndRemove(home, temp.cleanup);
    rmSync(project, { recursive: true, force: true });
  };
  const started = await runCli(['daemon', 'start'], { home, env: { PAASMAKER_REQUEST_LOG: String(KEPT) } });
  expect(started.exitCode, started.stderr).toBe(0);
  const up = await runCli(['up', '-d', project], { home });
  expect(up.exitCode, up.stderr).toBe(0);
  routerPort = (await apiRequest(socket, 'GET', '/api/v1/status')).json.proxyPort as number;
}, 90_000);

afterAll(async () => cleanup?.());

describe('paasmaker requests', () => {
  it('the API and --json show a request with its headers named, credentials and bodies nowhere', async () => {
    const answer = await send('/checkout?step=2', { method: 'POST', body: 'POSTED-BODY-a8e4', headers: { ...withSecrets, 'content-type': 'text/plain' } });
    expect(answer).toEqual({ status: 200, setCookie: [`session=${SECRETS[2]}; HttpOnly`] });

    const mine = (await records()).find((record) => record.path === '/checkout?step=2');
    expect(mine).toMatchObject({ app: 'inspected', instance: 'web', upstream: 'web.0', method: 'POST', status: 200, bytesIn: 'POSTED-BODY-a8e4'.length, answeredBy: 'app' });
    const names = (headers: Array<[string, string]>) => headers.map(([name]) => name.toLowerCase());
    expect(names(mine!.requestHeaders)).toEqual(expect.arrayContaining(['cookie', 'authorization', 'content-type']));
    expect(names(mine!.responseHeaders)).toContain('set-cookie');
    const api = JSON.stringify((await apiRequest(socket, 'GET', '/api/v1/apps/inspected/requests')).json);
    const cli = await runCli(['requests', 'inspected', '--json'], { home });
    expect(cli.exitCode, cli.stderr).toBe(0);
    const printed = Records.parse(JSON.parse(cli.stdout));
    expect(printed.map((record) => record.path)).toContain('/checkout?step=2');
    for (const text of [api, cli.stdout]) {
      for (const secret of [...SECRETS, 'POSTED-BODY', 'ANSWER-BODY']) expect(text).not.toContain(secret);
      expect(text).toContain('[redacted]');
      expect(text.toLowerCase()).toContain('"set-cookie"');
      expect(text.toLowerCase()).toContain('"authorization"');
    }
  });

  it('the table names time, method, path, status, duration, size and process; from the project folder APP is not needed', async () => {
    for (const x of [0, 1, 2]) await send(`/table-row?x=${x}`);
    const result = await runCli(['requests', '-n', '2'], { home, cwd: project });
    expect(result.exitCode, result.stderr).toBe(0);
    const [head, ...rows] = result.stdout.trim().split('\n');
    expect(head!.split(/\s+/)).toEqual(['TIME', 'METHOD', 'PATH', 'STATUS', 'DURATION', 'OUT', 'INSTANCE', 'NOTE']);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('/table-row?x=1');
    expect(rows.at(-1)).toMatch(/^\d\d:\d\d:\d\d\.\d{3}\s+GET\s+\/table-row\?x=2\s+200\s+[\d.]+ ms\s+\d+(\.\d)? (B|KiB)\s+web\.0$/);
    expect(result.stdout).not.toContain(SECRETS[0]);
  });

  it('-f prints requests as they come, the event stream carries them as request.recorded, and Ctrl-C ends it with 0', async () => {
    const follow = new CliProcess(['requests', 'inspected', '-f', '-n', '0'], { home });
    const events = new CliEvents();
    try {
      await follow.waitForOutput('TIME');
      await events.open();
      await send('/followed/1', { headers: withSecrets });
      await follow.waitForOutput('/followed/1');
      const frame = await until(() => events.text.split('\n\n').find((block) => block.includes('event: request.recorded') && block.includes('/followed/1')), 10_000, 'a request.recorded event');
      const payload = JSON.parse(/^data: (.*)$/m.exec(frame)![1]!) as { app: string; requests: unknown[] };
      expect(payload.app).toBe('inspected');
      expect(Records.parse(payload.requests).map((record) => record.path)).toContain('/followed/1');
      for (const secret of SECRETS) {
        expect(events.text).not.toContain(secret);
        expect(follow.output).not.toContain(secret);
      }
      follow.signal('SIGINT');
      expect(await follow.wait()).toBe(0);
    } finally {
      follow.kill();
      events.close();
    }
  });

  it('-f --json prints one record a line', async () => {
    const follow = new CliProcess(['requests', 'inspected', '-f', '--json', '-n', '1'], { home });
    try {
      await until(() => follow.output.includes('\n'), 20_000, 'the most recent request');
      await send('/json-line');
      await follow.waitForOutput('/json-line');
      const lines = follow.output.trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const line of lines) expect(RequestRecordSchema.strict().parse(JSON.parse(line)).app).toBe('inspected');
    } finally {
      follow.kill();
    }
  });

  it('a 503 the router answered while the process was stopped is recorded, with why', async () => {
    const stopped = await apiRequest(socket, 'POST', '/api/v1/apps/inspected/processes/web/0/stop');
    expect(stopped.status, JSON.stringify(stopped.json)).toBe(200);
    try {
      expect((await send('/while-stopped')).status).toBe(503);
      const [record] = await records('?path=/while-stopped');
      expect(record).toMatchObject({ status: 503, answeredBy: 'router', upstream: null });
      expect(record!.error).toContain('inspected/web is stopped');
      const table = await runCli(['requests', 'inspected', '-n', '1'], { home });
      expect(table.stdout).toMatch(/\/while-stopped\s+503 .*router: inspected\/web is stopped/);
    } finally {
      expect((await apiRequest(socket, 'POST', '/api/v1/apps/inspected/processes/web/0/start')).status).toBe(200);
    }
  });

  it(`keeps ${KEPT} requests (PAASMAKER_REQUEST_LOG), dropping the oldest`, async () => {
    for (let i = 0; i < KEPT + 5; i++) await send(`/bound/${i}`);
    const kept = await records();
    expect(kept).toHaveLength(KEPT);
    expect(kept.at(-1)!.path).toBe(`/bound/${KEPT + 4}`);
    expect(kept[0]!.path).toBe('/bound/5');
    // ?since= an id resumes after it.
    expect((await records(`?since=${kept.at(-2)!.id}`)).map((record) => record.path)).toEqual([`/bound/${KEPT + 4}`]);
  });

  it('an unknown app exits 1 with the known ones as a hint; the API answers 404', async () => {
    const result = await runCli(['requests', 'nosuch'], { home });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no app named "nosuch"');
    expect(result.stderr).toContain('known apps: inspected');
    expect((await apiRequest(socket, 'GET', '/api/v1/apps/nosuch/requests')).status).toBe(404);
  });

  it('with no platform running it says the requests live in the running router and exits 1', async () => {
    const { home: empty, cleanup: remove } = tempHome();
    try {
      const result = await runCli(['requests', 'inspected'], { home: empty });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('no Paasmaker is running');
      expect(result.stderr).toContain('memory of the router');
    } finally {
      remove();
    }
  });
});

/** The daemon's event stream for the app, its text collected. */
class CliEvents {
  text = '';
  private req: ReturnType<typeof request> | undefined;

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.req = request({ socketPath: socket, path: '/api/v1/events?app=inspected', headers: { host: 'localhost' } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (this.text += chunk));
        res.on('error', () => undefined);
        resolve();
      });
      this.req.on('error', reject);
      this.req.end();
    });
  }

  close(): void {
    this.req?.destroy();
  }
}
