#!/usr/bin/env node
// Save → new content, under a steady keep-alive load of 4 connections:
//   paasmaker up (through its router, rolling reload on save);
//   node --watch on the same app (the app's own port), and nodemon if installed.
// Reference, same run: the app's own start time (node server.js → first 200).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, median, root, sleep } from './lib.mjs';

const rounds = Number(process.env.ROUNDS ?? 3);
const server = (version) => `require('http').createServer((req, res) => res.end('${version}')).listen(process.env.PORT, '127.0.0.1');\n`;

function get(port, host, agent) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? body : null));
    });
    req.on('error', () => resolve(null));
    req.end();
  });
}

async function waitFor(port, host, body, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await get(port, host, false)) === body) return;
    await sleep(20);
  }
  throw new Error(`no "${body}" on ${port}`);
}

/** Loads the target with 4 keep-alive loops, saves v2 after 1 s, measures for 3 s. */
async function measure(port, host, file) {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let ok = 0;
  let failed = 0;
  let savedAt = 0;
  let switchedAt = 0;
  let running = true;
  const loop = async () => {
    while (running) {
      const body = await get(port, host, agent);
      if (body === null) {
        failed++;
        await sleep(1); // a refused connection returns at once: do not spin
      } else {
        ok++;
        if (body === 'v2' && !switchedAt && savedAt) switchedAt = Date.now();
      }
    }
  };
  const loops = Array.from({ length: 4 }, loop);
  await sleep(1000);
  savedAt = Date.now();
  writeFileSync(file, server('v2'));
  await sleep(3000);
  running = false;
  await Promise.all(loops);
  agent.destroy();
  return { ms: switchedAt ? switchedAt - savedAt : NaN, ok, failed };
}

function project() {
  const dir = mkdtempSync(join(tmpdir(), 'pm-bench-reload-'));
  writeFileSync(join(dir, 'paasmaker.yml'), 'application:\n  name: hello\ninstances:\n  web:\n    command: node server.js\n');
  writeFileSync(join(dir, 'server.js'), server('v1'));
  return dir;
}

async function paasmaker() {
  const dir = project();
  const home = mkdtempSync(join(tmpdir(), 'pm-bench-home-'));
  const port = await freePort();
  const child = spawn(bin, ['up', dir, '--proxy-port', String(port)], { env: { ...process.env, PAASMAKER_HOME: home, PAASMAKER_DNS_PORT: '0' }, stdio: 'ignore', detached: true });
  try {
    await waitFor(port, 'hello.localhost', 'v1');
    await sleep(300); // the watcher is ready just after the app
    return await measure(port, 'hello.localhost', join(dir, 'server.js'));
  } finally {
    process.kill(-child.pid, 'SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}

async function watcher(argv) {
  const dir = project();
  const port = await freePort();
  const child = spawn(argv[0], [...argv.slice(1), 'server.js'], { cwd: dir, env: { ...process.env, PORT: String(port) }, stdio: 'ignore', detached: true });
  try {
    await waitFor(port, 'localhost', 'v1');
    return await measure(port, 'localhost', join(dir, 'server.js'));
  } finally {
    process.kill(-child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ownStart() {
  const dir = project();
  const port = await freePort();
  const started = Date.now();
  const child = spawn('node', ['server.js'], { cwd: dir, env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
  await waitFor(port, 'localhost', 'v1');
  const took = Date.now() - started;
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  return took;
}

const contenders = [['paasmaker up', paasmaker], ['node --watch', () => watcher(['node', '--watch'])]];
// nodemon: the dev dependency (npm ci), else one on the PATH.
const nodemon = [join(root, 'node_modules', '.bin', 'nodemon'), 'nodemon'].find((bin) => !spawnSync(bin, ['--version']).error);
if (nodemon) contenders.push(['nodemon', () => watcher([nodemon, '-q'])]);
else console.log('nodemon: not installed (npm ci installs it as a dev dependency), skipped');
const results = new Map(contenders.map(([name]) => [name, []]));
const starts = [];
for (let round = 0; round < rounds; round++) {
  starts.push(await ownStart());
  for (const [name, run] of contenders) results.get(name).push(await run());
}

console.log(`\nsave → new content under 4 keep-alive connections, ${rounds} rounds; ${new Date().toISOString()}`);
console.log(`the app's own start (node server.js → first 200): median ${median(starts)} ms`);
console.log(`${'target'.padEnd(16)}${'save→new (median)'.padEnd(20)}${'failed (total)'.padEnd(16)}answered (total)`);
for (const [name, samples] of results) {
  console.log(`${name.padEnd(16)}${`${median(samples.map((s) => s.ms))} ms`.padEnd(20)}${String(samples.reduce((n, s) => n + s.failed, 0)).padEnd(16)}${samples.reduce((n, s) => n + s.ok, 0)}`);
}
