import { join } from 'node:path';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest, CliProcess, examples, psJson, repoRoot, runCli, tempHome, until } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function start(dir: string) {
  const { home, cleanup } = tempHome();
  const up = new CliProcess(['up', dir], { home });
  cleanups.push(() => {
    up.kill();
    cleanup();
  });
  return { home, up };
}

function get(port: number, host: string, accept = '*/*', path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, accept }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const routerPort = (output: string) => Number(/open (?:https:\/\/\S+ \(or )?http:\/\/[a-z0-9-]+\.localhost:(\d+)\//.exec(output)?.[1]);

describe('paasmaker up with the router', () => {
  it('serves each app on <app>.localhost: the same answer as the instance port', async () => {
    const { home, up } = start(join(examples, 'hello-node'));
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/hello-node\.localhost:\d+\//);
    const port = routerPort(up.output);
    const [row] = await psJson(home);
    const direct = await get(row!.port!, 'hello-node.localhost');
    const routed = await get(port, 'hello-node.localhost');
    expect(routed).toEqual(direct);
    expect((await get(port, 'hello-node.local.paasmaker')).status).toBe(200);
    expect((await get(port, 'other.localhost')).status).toBe(404);
  });

  it('serves a static site from the router itself', async () => {
    const { up } = start(join(examples, 'static-site'));
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/static-site\.localhost:\d+\//);
    const answer = await get(routerPort(up.output), 'static-site.localhost');
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Served by Paasmaker');
  });

  it('killing the instance while a client polls: no failed request, the restart is held and answered', async () => {
    const { home, up } = start(join(examples, 'hello-node'));
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/hello-node\.localhost:\d+\//);
    const port = routerPort(up.output);
    const [before] = await psJson(home);
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const pids = new Set<string>();
    const poll = (async () => {
      while (!stop) {
        try {
          const answer = await get(port, 'hello-node.localhost');
          if (answer.status === 200) {
            ok++;
            pids.add(/pid (\d+)/.exec(answer.body)?.[1] ?? '');
          } else failures.push(`${answer.status} ${answer.body.slice(0, 80)}`);
        } catch (error) {
          failures.push(String(error));
        }
      }
    })();
    await until(() => ok > 20, 5000, 'some answers');
    process.kill(before!.pid!, 'SIGKILL');
    await until(async () => (await psJson(home))[0]!.restarts === 1 && (await psJson(home))[0]!.state === 'running', 10_000, 'the restart');
    await until(() => pids.size >= 2, 5000, 'answers from the new process');
    stop = true;
    await poll;
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(20);
  });

  it('a crash-looping app answers 503 with its state and last log lines', async () => {
    const { up } = start(join(repoRoot, 'test', 'fixtures', 'projects', 'crashy'));
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/crashy\.localhost:\d+\//);
    const port = routerPort(up.output);
    await until(async () => (await get(port, 'crashy.localhost')).status === 503, 10_000, 'the 503 page');
    const page = await get(port, 'crashy.localhost', 'text/html');
    expect(page.status).toBe(503);
    expect(page.body).toContain('crashy is backoff');
    expect(page.body).toContain('Error: the database is on fire');
  });

  it('counts traffic: stats --json per instance, and req/s in ps', async () => {
    const { home, up } = start(join(examples, 'hello-node'));
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/hello-node\.localhost:\d+\//);
    const port = routerPort(up.output);
    for (let i = 0; i < 12; i++) await get(port, 'hello-node.localhost');
    await get(port, 'hello-node.localhost').then(() => undefined);
    const rows = await until(async () => {
      const result = await runCli(['stats', '--json'], { home });
      const parsed = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
      return parsed.length > 0 && parsed[0]!.requests === 13 ? parsed : undefined;
    }, 5000, 'the traffic tick');
    expect(rows[0]).toMatchObject({ app: 'hello-node', instance: 'web', requests: 13, s2xx: 13, s5xx: 0, window: 60 });
    expect(rows[0]!.bytesOut as number).toBeGreaterThan(13 * 40);
    const [row] = await psJson(home);
    expect(row!.rps).toBeGreaterThan(0);
    const text = await runCli(['stats'], { home });
    expect(text.stdout).toMatch(/^hello-node\s+web\s+13\s/m);
  });

  it('counts 5xx answers in their class: a 500 and a 502 through stats --json and the API', async () => {
    const { home, up } = start(join(repoRoot, 'test', 'fixtures', 'projects', 'statuses'));
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/statuses\.localhost:\d+\//);
    const port = routerPort(up.output);
    const answers = [];
    for (const path of ['/', '/', '/404', '/500', '/502']) answers.push((await get(port, 'statuses.localhost', '*/*', path)).status);
    expect(answers).toEqual([200, 200, 404, 500, 502]);
    const expected = { app: 'statuses', instance: 'web', requests: 5, s2xx: 2, s3xx: 0, s4xx: 1, s5xx: 2 };
    const rows = await until(async () => {
      const parsed = JSON.parse((await runCli(['stats', '--json'], { home })).stdout) as Array<Record<string, unknown>>;
      return parsed[0]?.requests === 5 ? parsed : undefined;
    }, 5000, 'the traffic tick');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject(expected);
    const api = await apiRequest(join(home, 'run', `up-${up.pid}.sock`), 'GET', '/api/v1/stats?app=statuses');
    expect(api.status).toBe(200);
    expect(api.json).toHaveLength(1);
    expect(api.json[0]).toMatchObject(expected);
    const text = await runCli(['stats'], { home });
    expect(text.stdout).toMatch(/^statuses\s+web\s+5\s+\S+\s+2\s+0\s+1\s+2\s/m);
  });

  it('doctor finds the router and DNS responder where the running up put them; with none running, says what to fix', async () => {
    const { home, up } = start(join(examples, 'hello-node'));
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/hello-node\.localhost:\d+\//);
    const port = routerPort(up.output);
    // The ports the running up took, whatever the configured ones say.
    const found = await runCli(['doctor'], { home, env: { PAASMAKER_PROXY_PORT: '1', PAASMAKER_DNS_PORT: '1' } });
    expect(found.stdout).toContain(`✓ the router of paasmaker up (pid ${up.pid}) answers on port ${port}`);
    expect(found.stdout).toMatch(new RegExp(`✓ the DNS responder of paasmaker up \\(pid ${up.pid}\\) answers for \\*\\.local\\.paasmaker on 127\\.0\\.0\\.1:\\d+`));
    up.signal('SIGINT');
    await up.wait();
    const missing = await runCli(['doctor'], { home, env: { PAASMAKER_PROXY_PORT: '1', PAASMAKER_DNS_PORT: '1' } });
    expect(missing.stdout).toContain('✗ nothing listens on port 1\n  fix: start a project with paasmaker up');
    expect(missing.stdout).toContain('✗ no DNS responder for *.local.paasmaker on 127.0.0.1:1 (no platform of this home runs)\n  fix: it runs while paasmaker up, or the daemon, runs');
    expect(missing.exitCode).toBe(1);
  });
});
