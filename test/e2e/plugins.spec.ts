import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findBinary } from '../../src/services/binaries.js';
import { PluginSchema } from '../../src/shared/views.js';
import { CliProcess, examples, runCli, sleep, tempHome } from '../helpers/cli.js';
import { processesUnder } from '../helpers/processes.js';

// Plugins from config.yml, as a user sets them up: the memcached example plugin by path and
// installed with `paasmaker plugins add`, a plugin that throws at load, one whose name is taken.
const hasMemcached = findBinary(['memcached']) !== undefined;
const ci = process.env.CI === 'true';
const memcachedPlugin = join(examples, 'plugins', 'memcached');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function home(config: string): string {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  writeFileSync(join(home, 'config.yml'), config);
  return home;
}

function project(pmHome: string, from: string, name: string): string {
  const dir = join(pmHome, 'projects', name);
  mkdirSync(join(pmHome, 'projects'), { recursive: true });
  cpSync(from, dir, { recursive: true });
  return dir;
}

async function up(pmHome: string, dir: string): Promise<{ port: number; running: CliProcess }> {
  const running = new CliProcess(['up', dir], { home: pmHome });
  cleanups.push(async () => {
    running.signal('SIGINT');
    await running.wait(20_000).catch(() => running.kill());
    // The app and the memcached server both run from under PAASMAKER_HOME: none is left.
    for (let i = 0; i < 100 && processesUnder(pmHome).length > 0; i++) await sleep(50);
    expect(processesUnder(pmHome)).toEqual([]);
  });
  // "open https://APP.localhost:PORT/ (or http://APP.localhost:PORT/)", or the http one alone.
  const url = /(?:open |or )http:\/\/[a-z0-9-]+\.localhost:(\d+)\//;
  await running.waitForOutput(url, 120_000);
  return { port: Number(url.exec(running.output)?.[1]), running };
}

function get(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function plugins(pmHome: string) {
  const result = await runCli(['plugins', '--json'], { home: pmHome });
  return z.array(PluginSchema).parse(JSON.parse(result.stdout));
}

describe.skipIf(!hasMemcached && !ci)('the memcached example plugin', () => {
  it('listed by path in config.yml: the app sets and gets a key through MEMCACHED_URL, behind the router', async () => {
    const pmHome = home(`plugins:\n  - ${memcachedPlugin}\n`);
    const app = project(pmHome, join(memcachedPlugin, 'app'), 'counter');
    const { port, running } = await up(pmHome, app);
    expect(await get(port, 'memcached-counter.localhost', '/set?key=greeting&value=hello%20memcached')).toEqual({ status: 200, body: 'stored\n' });
    const read = await get(port, 'memcached-counter.localhost', '/get?key=greeting');
    expect(read.status, read.body).toBe(200);
    expect(JSON.parse(read.body)).toEqual({ key: 'greeting', value: 'hello memcached', prefix: 'memcached-counter:cache:' });
    expect((await get(port, 'memcached-counter.localhost', '/')).body).toBe('This page has been seen 1 times\n');
    expect((await get(port, 'memcached-counter.localhost', '/')).body).toBe('This page has been seen 2 times\n');
    // The app was given the plugin's variable, pointing at the platform's own memcached (loopback).
    const env = await runCli(['env', '--json', app], { home: pmHome });
    const vars = JSON.parse(env.stdout) as Record<string, string>;
    expect(vars.MEMCACHED_URL).toMatch(/^memcached:\/\/127\.0\.0\.1:\d+$/);
    expect(vars.CACHE_URL).toBe(vars.MEMCACHED_URL);
    // The running platform lists the plugin it loaded; the services list shows its server.
    const rows = await plugins(pmHome);
    expect(rows.find((row) => row.services.includes('memcached'))).toMatchObject({ name: 'paasmaker-plugin-memcached', origin: `path ${memcachedPlugin}`, state: 'loaded' });
    expect(rows[0]).toMatchObject({ origin: 'built-in', runtimes: expect.arrayContaining(['node', 'php']), services: expect.arrayContaining(['postgres', 'redis']) });
    const services = await runCli(['services'], { home: pmHome });
    expect(services.stdout).toMatch(/memcached 1\.\d+\.\d+ +running +\d+/);
    expect(running.output).not.toContain('warning:');
  }, 180_000);

  it('installed with `paasmaker plugins add` (a packed tarball) and listed by name: it imports paasmaker/plugin from the paasmaker that loads it', async () => {
    const pmHome = home('');
    const packed = execFileSync('npm', ['pack', '--pack-destination', pmHome, memcachedPlugin], { encoding: 'utf8', cwd: pmHome, stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').at(-1)!;
    const added = await runCli(['plugins', 'add', join(pmHome, packed)], { home: pmHome });
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toContain('installed paasmaker-plugin-memcached@0.1.0');
    expect(added.stdout).toContain('  plugins:\n    - paasmaker-plugin-memcached');
    // No second paasmaker came along as a peer dependency: the running one is the plugin's.
    expect(readdirSync(join(pmHome, 'plugins', 'node_modules')).filter((name) => !name.startsWith('.'))).toEqual(['paasmaker-plugin-memcached']);
    writeFileSync(join(pmHome, 'config.yml'), 'plugins:\n  - paasmaker-plugin-memcached\nservices:\n  sessions:\n    plugin: memcached\n    prefix: "s:"\n');
    const app = project(pmHome, join(memcachedPlugin, 'app'), 'counter');
    writeFileSync(join(app, 'paasmaker.yml'), readFileSync(join(app, 'paasmaker.yml'), 'utf8').replace('plugin: memcached', 'plugin: sessions'));
    const { port } = await up(pmHome, app);
    await get(port, 'memcached-counter.localhost', '/set?key=k&value=v');
    expect(JSON.parse((await get(port, 'memcached-counter.localhost', '/get?key=k')).body)).toEqual({ key: 'k', value: 'v', prefix: 's:' });
    expect((await plugins(pmHome)).find((row) => row.name === 'paasmaker-plugin-memcached')).toMatchObject({ origin: 'package paasmaker-plugin-memcached@0.1.0', state: 'loaded', services: ['memcached'] });
  }, 180_000);

  it("an option the plugin's schema refuses is a positioned error in config.yml for the apps that use it; the others run", async () => {
    const pmHome = home(`plugins:\n  - ${memcachedPlugin}\nservices:\n  cache:\n    plugin: memcached\n    prefix: "has spaces"\n  db: {plugin: sqlite}\n`);
    const app = project(pmHome, join(memcachedPlugin, 'app'), 'counter');
    writeFileSync(join(app, 'paasmaker.yml'), readFileSync(join(app, 'paasmaker.yml'), 'utf8').replace('plugin: memcached', 'plugin: cache'));
    const result = await runCli(['up', app], { home: pmHome });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('config.yml:6:13: services.cache.prefix: must be 1 to 64 letters, digits or : . _ -');
    expect(result.stderr).toContain('> 6 |     prefix: "has spaces"');
    expect(result.stderr).toContain('hint: memcached takes: prefix');
    // An app with a service of another name in the same config.yml gets it.
    const other = project(pmHome, join(examples, 'hello-node'), 'hello-node');
    writeFileSync(join(other, 'paasmaker.yml'), `${readFileSync(join(other, 'paasmaker.yml'), 'utf8')}services:\n  data: {plugin: db}\n`);
    const env = await runCli(['env', '--json', other], { home: pmHome });
    expect(env.exitCode, env.stderr).toBe(0);
    expect((JSON.parse(env.stdout) as Record<string, string>).DATA_URL).toMatch(/^sqlite:\/\/\//);
  });
});

describe('a runtime from a plugin', () => {
  it('is a runtime like the built-ins: a manifest names it, its options are checked, its plan starts the instance behind the router', async () => {
    const pmHome = home('plugins:\n  - ./greeter.mjs\n');
    writeFileSync(
      join(pmHome, 'greeter.mjs'),
      [
        "import { definePlugin, z } from 'paasmaker/plugin';",
        'export default definePlugin({',
        "  name: 'greeter',",
        '  runtimes: [{',
        "    name: 'greeter',",
        '    options: z.strictObject({ greeting: z.string() }),',
        '    defaultCommand: true,',
        '    versions: async () => [],',
        '    plan: async (ctx) => ({',
        "      description: 'greeter 1.0',",
        '      pathPrepend: [], prepare: [], fingerprintFiles: [],',
        '      env: { GREETING: ctx.instance.runtime.options.greeting },',
        "      command: ctx.instance.command ?? 'node server.js',",
        '    }),',
        '  }],',
        '});',
        '',
      ].join('\n'),
    );
    const app = join(pmHome, 'projects', 'greeted');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'paasmaker.yml'), 'application: {name: greeted}\ninstances:\n  web:\n    runtime: {name: greeter, greeting: Hej}\n');
    writeFileSync(join(app, 'server.js'), "require('node:http').createServer((q, r) => r.end(process.env.GREETING)).listen(Number(process.env.PORT), '127.0.0.1');\n");
    const { port } = await up(pmHome, app);
    expect(await get(port, 'greeted.localhost', '/')).toEqual({ status: 200, body: 'Hej' });
    expect((await plugins(pmHome)).at(-1)).toMatchObject({ name: 'greeter', runtimes: ['greeter'], services: [], state: 'loaded' });

    writeFileSync(join(app, 'paasmaker.yml'), 'application: {name: greeted}\ninstances:\n  web:\n    runtime: {name: greeter, greting: Hej}\n');
    const refused = await runCli(['env', app], { home: pmHome });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/paasmaker\.yml:4:\d+: unknown key "greting" in instances\.web\.runtime/);
  }, 120_000);
});

describe('a plugin that fails', () => {
  it('throws at load: a positioned warning, `paasmaker plugins` says why, another app runs, and an app needing it fails naming it', async () => {
    const pmHome = home('# plugins of this machine\nplugins:\n  - ./broken.js\nservices:\n  cache:\n    plugin: memcached\n');
    writeFileSync(join(pmHome, 'broken.js'), "import { definePlugin } from 'paasmaker/plugin';\nthrow new Error('boom at load');\nexport default definePlugin({ name: 'broken' });\n");
    const rows = await plugins(pmHome);
    expect(rows.map((row) => [row.name, row.state])).toEqual([
      ['paasmaker', 'loaded'],
      ['./broken.js', 'failed'],
    ]);
    expect(rows[1]!.error).toMatch(/config\.yml:3:5: plugin "\.\/broken\.js" failed to load: loading .*broken\.js threw: boom at load$/);
    const table = await runCli(['plugins'], { home: pmHome });
    expect(table.exitCode).toBe(1);
    expect(table.stdout).toMatch(/\.\/broken\.js +path \.\/broken\.js +- +failed/);

    // The rest of the platform works: an app without the plugin runs, with the warning shown.
    const hello = project(pmHome, join(examples, 'hello-node'), 'hello-node');
    const { port, running } = await up(pmHome, hello);
    expect(running.output).toMatch(/warning: .*config\.yml:3:5: plugin "\.\/broken\.js" failed to load: .*boom at load/);
    expect((await get(port, 'hello-node.localhost', '/')).status).toBe(200);

    // An app that needs a service the failed plugin may have provided: a clear error naming it.
    const counter = project(pmHome, join(memcachedPlugin, 'app'), 'counter');
    const direct = await runCli(['up', counter], { home: pmHome });
    expect(direct.exitCode).toBe(1);
    expect(direct.stderr).toContain('services.cache asks for "memcached", which is not a service here (a plugin that failed to load may provide it)');
    expect(direct.stderr).toMatch(/hint: .*\(plugins that failed to load: \.\/broken\.js: .*boom at load\)/);
    // Through config.yml's symbolic name "cache", whose plugin nobody provides now.
    writeFileSync(join(counter, 'paasmaker.yml'), readFileSync(join(counter, 'paasmaker.yml'), 'utf8').replace('plugin: memcached', 'plugin: cache'));
    const named = await runCli(['up', counter], { home: pmHome });
    expect(named.exitCode).toBe(1);
    expect(named.stderr).toMatch(/services\.cache of memcached-counter needs "cache": .*config\.yml:6:13: unknown plugin "memcached" \(plugins that failed to load: \.\/broken\.js: .*boom at load\)/);
    expect(named.stderr).toContain('hint: fix the plugin (paasmaker plugins says why it failed), then restart the platform');
  }, 120_000);

  it('a plugin whose service name is a built-in one is refused, and what it would replace keeps working', async () => {
    const pmHome = home('plugins:\n  - ./redis-again\n');
    mkdirSync(join(pmHome, 'redis-again'));
    writeFileSync(join(pmHome, 'redis-again', 'package.json'), JSON.stringify({ name: 'redis-again', version: '1.0.0', type: 'module', main: 'main.js' }));
    writeFileSync(
      join(pmHome, 'redis-again', 'main.js'),
      "import { definePlugin } from 'paasmaker/plugin';\nexport default definePlugin({ name: 'redis-again', services: { redis: { summary: 'x', factory: () => ({}) } } });\n",
    );
    const rows = await plugins(pmHome);
    expect(rows[1]).toMatchObject({ name: 'redis-again', origin: 'path ./redis-again', version: '1.0.0', state: 'failed', services: [] });
    expect(rows[1]!.error).toContain('config.yml:2:5: plugin "./redis-again" failed to load: the service "redis" is already provided by Paasmaker itself (built-in)');
    expect(rows[0]!.services).toContain('redis');
  });
});
