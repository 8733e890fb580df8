import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import type { Agent } from 'node:http';
import { getHost, load as loadHost } from '../helpers/load.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, psJson, runCli, sleep, tempHome, until } from '../helpers/cli.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SERVER = (version: string) => `require('http').createServer((req, res) => res.end('${version}')).listen(process.env.PORT, '127.0.0.1');\n`;

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-reload-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'paasmaker.yml'), 'application:\n  name: live\ninstances:\n  web:\n    command: node server.js\n');
  writeFileSync(join(dir, 'server.js'), SERVER('v1'));
  return dir;
}

async function start(dir: string, before?: (home: string) => void): Promise<{ up: CliProcess; port: number; home: string }> {
  const { home, cleanup } = tempHome();
  before?.(home);
  const up = new CliProcess(['up', dir], { home });
  cleanups.push(async () => {
    up.signal('SIGINT');
    await up.wait(15_000).catch(() => up.kill());
    cleanup();
  });
  await up.waitForOutput(/watching for changes/);
  return { up, home, port: Number(/open (?:https:\/\/\S+ \(or )?http:\/\/live\.localhost:(\d+)\//.exec(up.output)![1]) };
}

const get = (port: number, agent?: Agent) => getHost(port, 'live.localhost', agent);
const load = (port: number) => loadHost(port, 'live.localhost');

describe('paasmaker up reloads on save', () => {
  it('switches to the new code within 2 s under load, with no failed request', async () => {
    const dir = project();
    const { port } = await start(dir);
    const traffic = load(port);
    cleanups.push(() => traffic.stop());
    await until(() => traffic.counts.ok > 200, 10_000, 'traffic to flow');
    const savedAt = Date.now();
    writeFileSync(join(dir, 'server.js'), SERVER('v2'));
    await until(() => traffic.counts.firstAt.has('v2'), 5000, 'the new version to answer');
    const switchedIn = traffic.counts.firstAt.get('v2')! - savedAt;
    await sleep(300);
    await traffic.stop();
    expect(switchedIn).toBeLessThan(2000);
    expect(traffic.counts.failed).toBe(0);
    expect(traffic.counts.ok).toBeGreaterThan(500);
    // Once switched, only the new version answers.
    expect((await get(port)).body).toBe('v2');
  });

  it('keeps the old version serving when a save breaks the app, shows why, and reloads once fixed', async () => {
    const dir = project();
    const { up, port } = await start(dir);
    writeFileSync(join(dir, 'server.js'), `${SERVER('v2')}this is not javascript(\n`);
    await up.waitForOutput(/reload web failed: the new web exited with code 1; the previous version keeps serving/);
    expect(up.output).toContain('SyntaxError');
    expect(await get(port)).toEqual({ status: 200, body: 'v1' });
    writeFileSync(join(dir, 'server.js'), SERVER('v3'));
    await until(async () => (await get(port)).body === 'v3', 10_000, 'the fixed version');
  });

  it('reports a broken manifest edit with its position and keeps running; a good edit applies with the environment diff', async () => {
    const dir = project();
    const { up, port } = await start(dir);
    const manifest = readFileSync(join(dir, 'paasmaker.yml'), 'utf8');
    writeFileSync(join(dir, 'paasmaker.yml'), manifest.replace('command:', 'comand:'));
    await up.waitForOutput(/paasmaker\.yml:5:5: unknown key "comand" in instances\.web — did you mean "command"\?/);
    expect(await get(port)).toEqual({ status: 200, body: 'v1' });
    writeFileSync(join(dir, 'paasmaker.yml'), `${manifest}    environment: {GREETING: hello, API_TOKEN: s3cret}\n`);
    await up.waitForOutput(/\+ API_TOKEN=\*{8}/);
    expect(up.output).toContain('+ GREETING=hello');
    expect(up.output).not.toContain('s3cret');
  });

  it('ignores node_modules, .git and .gitignored paths, and makes one reload of a burst', async () => {
    const dir = project();
    writeFileSync(join(dir, '.gitignore'), 'build/\n*.log\n');
    const { up } = await start(dir);
    mkdirSync(join(dir, 'node_modules', 'x'), { recursive: true });
    mkdirSync(join(dir, 'build'));
    writeFileSync(join(dir, 'node_modules', 'x', 'index.js'), '1');
    writeFileSync(join(dir, 'build', 'out.js'), '1');
    writeFileSync(join(dir, 'debug.log'), '1');
    await sleep(600);
    expect(up.output).not.toMatch(/reload web/);
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, `part${i}.js`), String(i));
    await up.waitForOutput(/reload web: done/);
    await sleep(500);
    expect(up.output.match(/reload web…/g)).toHaveLength(1);
  });

  it('scales an instance type live from another terminal, and restarts it without a failed request', async () => {
    const dir = project();
    writeFileSync(join(dir, 'server.js'), "require('http').createServer((req, res) => res.end(String(process.pid))).listen(process.env.PORT, '127.0.0.1');\n");
    const { port, home } = await start(dir);
    const first = (await get(port)).body;
    const scaled = await runCli(['scale', 'live/web=3'], { home });
    expect(scaled.stdout, scaled.stderr).toContain('live/web: 1 → 3');
    const rows = await psJson(home);
    expect(rows.filter((row) => row.state === 'running').map((row) => row.index).sort()).toEqual([0, 1, 2]);
    const pids = new Set<string>();
    for (let i = 0; i < 30; i++) pids.add((await get(port)).body);
    expect(pids.size).toBe(3);
    expect(pids.has(first)).toBe(true); // the first process was not restarted

    const traffic = load(port);
    cleanups.push(() => traffic.stop());
    await until(() => traffic.counts.ok > 100, 10_000, 'traffic');
    const restarted = await runCli(['restart', 'live/web'], { home });
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    const down = await runCli(['scale', 'live/web=1'], { home });
    expect(down.stdout).toContain('live/web: 3 → 1');
    await sleep(200);
    await traffic.stop();
    expect(traffic.counts.failed).toBe(0);
    expect(traffic.counts.bodies.has(first)).toBe(true);
    expect((await psJson(home)).length).toBe(1);
    expect(pids.has((await get(port)).body)).toBe(false); // a restarted process answers
  });

  it('runs prepare again before the reload when one of its inputs changed', async () => {
    const dir = project();
    writeFileSync(join(dir, 'deps.txt'), 'one');
    writeFileSync(join(dir, 'paasmaker.yml'), 'application:\n  name: live\ninstances:\n  web:\n    prepare: {commands: ["cp deps.txt built.txt"], watch: [deps.txt]}\n    command: node -e "require(\'http\').createServer((q, s) => s.end(require(\'fs\').readFileSync(\'built.txt\'))).listen(process.env.PORT, \'127.0.0.1\')"\n');
    const { up, port } = await start(dir);
    expect((await get(port)).body).toBe('one');
    writeFileSync(join(dir, 'deps.txt'), 'two');
    await until(async () => (await get(port)).body === 'two', 10_000, 'the prepared new version');
    expect(up.output).toMatch(/\$ cp deps\.txt built\.txt[\s\S]*\$ cp deps\.txt built\.txt/);
  });

  it('restarts the app when config.yml changes what its services hand over', async () => {
    const dir = project();
    writeFileSync(join(dir, 'paasmaker.yml'), 'application:\n  name: live\ninstances:\n  web:\n    command: node -e "require(\'http\').createServer((q, s) => s.end(process.env.CONF_GREETING)).listen(process.env.PORT, \'127.0.0.1\')"\nservices:\n  conf: {plugin: settings}\n');
    const { up, port, home } = await start(dir, (home) => writeFileSync(join(home, 'config.yml'), 'services:\n  settings: {plugin: parameters, greeting: hello}\n'));
    expect((await get(port)).body).toBe('hello');
    writeFileSync(join(home, 'config.yml'), 'services:\n  settings: {plugin: parameters, greeting: bye}\n');
    await until(async () => (await get(port)).body === 'bye', 10_000, 'the new setting').catch((error) => {
      throw new Error(`${error.message}\n${up.output}`);
    });
    expect(up.output).toContain('~ CONF_GREETING=bye');
  });
});
