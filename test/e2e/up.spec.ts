import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, CliProcess, examples, psJson, repoRoot, runCli, tempHome, until } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function setup() {
  const { home, cleanup } = tempHome();
  const started: CliProcess[] = [];
  cleanups.push(() => {
    for (const up of started) up.kill();
    cleanup();
  });
  const up = (dir: string, args: string[] = []) => {
    const process = new CliProcess(['up', dir, ...args], { home });
    started.push(process);
    return process;
  };
  return { home, up };
}

async function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

describe('paasmaker up', () => {
  it('runs hello-node: ps --json shows web running and its port answers', async () => {
    const { home, up } = setup();
    const server = up(join(examples, 'hello-node'));
    await server.waitForOutput('hello-node is up');
    const rows = await psJson(home);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ app: 'hello-node', instance: 'web', index: 0, state: 'running', restarts: 0 });
    expect(rows[0]!.pid).toBeGreaterThan(0);
    expect(Object.keys(rows[0]!).sort()).toEqual(['app', 'cpu', 'exitCode', 'httpsUrl', 'index', 'instance', 'memory', 'pid', 'port', 'restarts', 'rps', 'state', 'uptime', 'url']);
    // Where the router reaches it: plain http, and https on the router's TLS port.
    expect(rows[0]!.url).toMatch(/^http:\/\/hello-node\.localhost:\d+\/$/);
    expect(rows[0]!.httpsUrl).toMatch(/^https:\/\/hello-node\.localhost:\d+\/$/);
    const answer = await get(rows[0]!.port!);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Hello from Paasmaker');

    server.signal('SIGINT');
    expect(await server.wait()).toBe(130);
    expect(alive(rows[0]!.pid!)).toBe(false);
    const after = await psJson(home);
    expect(after[0]).toMatchObject({ state: 'stopped', pid: null, url: null, httpsUrl: null });
  });

  it('Ctrl-C while the watcher still reads a large project: up stops the app and says so (exit 130)', async () => {
    // The watcher closed before it had read the tree never said it was ready, and up, waiting on that
    // with nothing else left to keep it alive, exited 13 without stopping cleanly.
    const { home, up } = setup();
    const dir = join(tmpdir(), `pm-large-${process.pid}-${Date.now()}`);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (let d = 0; d < 60; d++) {
      mkdirSync(join(dir, 'src', `part${d}`), { recursive: true });
      for (let f = 0; f < 50; f++) writeFileSync(join(dir, 'src', `part${d}`, `file${f}.js`), '');
    }
    writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: large\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"\n`);
    const server = up(dir, ['--no-tls']);
    // The moment it says it is up, before the watcher has read 3,000 files.
    let interrupted = false;
    server.child.stdout!.on('data', () => {
      if (interrupted || !server.output.includes('large is up')) return;
      interrupted = true;
      server.signal('SIGINT');
    });
    await server.waitForOutput('large is up');
    expect(await server.wait()).toBe(130);
    expect(server.output).toContain('large stopped');
    // Once stopping, it does not say it watches (under load the watcher may have been ready before the interrupt).
    expect(server.output.slice(server.output.indexOf('interrupted'))).not.toContain('watching for changes');
  });

  it('gives a routed instance HOST=127.0.0.1 over a HOST the shell exports: hello-node listens on loopback only', async () => {
    const { home } = setup();
    const server = new CliProcess(['up', join(examples, 'hello-node')], { home, env: { HOST: '0.0.0.0' } });
    cleanups.push(() => server.kill());
    await server.waitForOutput('hello-node is up');
    expect(server.output).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+\//);
    const port = (await psJson(home))[0]!.port!;
    expect((await get(port)).status).toBe(200);
    // Not reachable on the machine's other addresses.
    const outside = Object.values(networkInterfaces()).flat().find((address) => address && address.family === 'IPv4' && !address.internal);
    if (outside) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: outside.address, port }, () => (socket.destroy(), resolve(false)));
        socket.on('error', () => resolve(true));
      });
      expect(refused, `${outside.address}:${port}`).toBe(true);
    }
    server.signal('SIGINT');
    expect(await server.wait()).toBe(130);
  });

  it('kill -9 of paasmaker: every child and grandchild is dead within 2 s, and the next up starts cleanly', async () => {
    const { home, up } = setup();
    const project = join(repoRoot, 'test', 'fixtures', 'projects', 'family');
    const first = up(project);
    await first.waitForOutput('family is up');
    await until(() => (first.output.match(/family pid=/g) ?? []).length >= 2, 10_000, 'both family processes to print pids');
    const pids = [...first.output.matchAll(/family pid=(\d+) child=(\d+) escaped=(\d+)/g)].flatMap((m) => [m[1], m[2], m[3]].map(Number));
    expect(pids).toHaveLength(6);
    for (const pid of pids) expect(alive(pid)).toBe(true);

    first.signal('SIGKILL');
    const killedAt = Date.now();
    await until(() => pids.every((pid) => !alive(pid)), 2_000, 'every app process to die');
    expect(Date.now() - killedAt).toBeLessThan(2_000);

    const rows = await psJson(home);
    expect(rows.every((row) => row.state === 'stopped')).toBe(true);

    const second = up(project);
    await second.waitForOutput('family is up');
    expect(second.output).not.toMatch(/reaped/);
    const fresh = await psJson(home);
    expect(fresh.filter((row) => row.state === 'running')).toHaveLength(2);
    for (const row of fresh) expect(pids).not.toContain(row.pid);
    second.signal('SIGTERM');
    expect(await second.wait()).toBe(143);
  });

  it('kill -9 of paasmaker: an app, its child and a grandchild that left the group, all ignoring SIGTERM, are dead within 2 s', async () => {
    const { home, up } = setup();
    const server = up(join(repoRoot, 'test', 'fixtures', 'projects', 'stubborn'));
    await server.waitForOutput('stubborn is up');
    const match = await until(() => /stubborn pid=(\d+) child=(\d+) escaped=(\d+)/.exec(server.output), 10_000, 'the stubborn app to print its pids');
    const pids = [match[1], match[2], match[3]].map(Number);
    for (const pid of pids) expect(alive(pid)).toBe(true);

    server.signal('SIGKILL');
    const killedAt = Date.now();
    await until(() => pids.every((pid) => !alive(pid)), 2_000, 'every stubborn process to die');
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    expect((await psJson(home)).every((row) => row.state === 'stopped')).toBe(true);
  });

  it('down from another terminal stops a running up (with SIGTERM, so it exits 143)', async () => {
    const { home, up } = setup();
    const dir = join(examples, 'procfile-app');
    const server = up(dir);
    await server.waitForOutput('procfile-app is up');
    const rows = await psJson(home);
    expect(rows.map((row) => `${row.instance}:${row.state}`).sort()).toEqual(['web:running', 'worker:running']);
    const web = rows.find((row) => row.instance === 'web')!;
    expect((await get(web.port!)).body).toBe('Hello from a Procfile\n');
    expect(rows.find((row) => row.instance === 'worker')!.port).toBeNull();

    const down = await runCli(['down', dir], { home });
    expect(down.exitCode).toBe(0);
    expect(down.stdout).toContain('stopped procfile-app');
    expect(await server.wait()).toBe(143);
    for (const row of rows) expect(alive(row.pid!)).toBe(false);
  });

  it('refuses to start an app that is already running', async () => {
    const { home, up } = setup();
    const dir = join(examples, 'hello-node');
    const server = up(dir);
    await server.waitForOutput('hello-node is up');
    const second = await runCli(['up', dir], { home });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(/already running/);
    expect(second.stderr).toMatch(/hint: .*paasmaker down/);
    server.signal('SIGINT');
    expect(await server.wait()).toBe(130);
  });

  it('runs the python and static examples', async () => {
    const { home, up } = setup();
    const python = up(join(examples, 'hello-python'));
    const site = up(join(examples, 'static-site'));
    await python.waitForOutput('hello-python is up');
    await site.waitForOutput('static-site is up');
    const rows = await psJson(home);
    const py = rows.find((row) => row.app === 'hello-python')!;
    const st = rows.find((row) => row.app === 'static-site')!;
    expect(py.state).toBe('running');
    expect((await get(py.port!)).body).toMatch(/Hello from Python 3\./);
    const page = await fetch(`http://127.0.0.1:${st.port}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('Served by Paasmaker');
    python.signal('SIGINT');
    site.signal('SIGINT');
    expect(await python.wait()).toBe(130);
    expect(await site.wait()).toBe(130);
  });

  it('logs prints the output of an instance', async () => {
    const { home, up } = setup();
    const dir = join(examples, 'procfile-app');
    const server = up(dir);
    await server.waitForOutput('procfile-app is up');
    // Ready means "accepts connections", which can precede the line saying so: wait for both lines.
    await until(async () => {
      const out = (await runCli(['logs', '-C', dir], { home })).stdout;
      return out.includes('worker started') && out.includes('web listening');
    }, 10_000, 'the web and worker log lines');
    const all = await runCli(['logs', '-C', dir, '-n', '50'], { home });
    expect(all.exitCode).toBe(0);
    expect(all.stdout).toMatch(/^web\.0\s+\| web listening on \d+$/m);
    expect(all.stdout).toMatch(/^worker\.0\s+\| worker started/m);
    const byApp = await runCli(['logs', 'procfile-app/web'], { home });
    expect(byApp.stdout).toMatch(/web listening/);
    expect(byApp.stdout).not.toMatch(/worker started/);
    server.signal('SIGINT');
    await server.wait();
  });
});

describe('paasmaker CLI basics', () => {
  it('--version prints the version and exits 0; an unknown command exits 2', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const version = await runCli(['--version'], { home });
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const unknown = await runCli(['frobnicate'], { home });
    expect(unknown.exitCode).toBe(2);
  });

  it('a folder without a manifest is a user error with a hint', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const result = await runCli(['up', home], { home });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/error: /);
    expect(result.stderr).toMatch(/hint: /);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('a misspelt key on line 5 prints paasmaker.yml:5:COL with a did-you-mean and exits 1', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const project = join(home, 'typo');
    mkdirSync(project);
    writeFileSync(
      join(project, 'paasmaker.yml'),
      ['application:', '  name: typo', 'instances:', '  web:', '    startp: node migrate.js', '    command: node server.js', ''].join('\n'),
    );
    const result = await runCli(['up', '.'], { home, cwd: project });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/paasmaker\.yml:5:5: unknown key "startp" in instances\.web/);
    expect(result.stderr).toMatch(/did you mean "startup"\?/);
    expect(result.stderr).toContain('startp: node migrate.js');
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});

describe('traffic history', () => {
  it('counts older than a day are pruned by the running platform, so state.db does not grow without end', async () => {
    const { home, up } = setup();
    const { State } = await import('../../src/state/index.js');
    const now = Math.floor(Date.now() / 1000);
    const row = (at: number) => ({ app: 'hello-node', instance: 'web', at, requests: 5, statuses: [0, 0, 5, 0, 0, 0] as [number, number, number, number, number, number], bytesIn: 0, bytesOut: 50, p50: 1, p90: 1, p99: 1 });
    const seed = State.open(join(home, 'state.db'));
    seed.traffic.record([row(now - 2 * 86_400), row(now - 3600)]);
    seed.close();
    const server = up(join(examples, 'hello-node'));
    await server.waitForOutput('hello-node is up');
    const count = () => {
      const state = State.open(join(home, 'state.db'));
      try {
        return state.traffic.summary(0, 'hello-node')[0]?.requests ?? 0;
      } finally {
        state.close();
      }
    };
    // The day-old-and-more row goes at the first flush; the hour-old one stays for `stats --window`.
    expect(await until(() => (count() === 5 ? true : undefined), 5000, 'the old counts to be pruned')).toBe(true);
  });
});
