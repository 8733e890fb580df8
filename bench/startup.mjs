#!/usr/bin/env node
// Issue-3 numbers, each next to a reference measured in the same run:
//   `paasmaker --version` vs `node -e 0`;
//   `paasmaker up examples/hello-node` → first 200 on the instance's port, vs `node server.js` → first 200;
//   kill -9 of `paasmaker up` → every process it started is gone;
//   `paasmaker ps` with the daemon running one app vs `paasmaker --version` (issue 13: ps < 150 ms).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, firstOk, freePort, median, root, sleep } from './lib.mjs';

const hello = join(root, 'examples', 'hello-node');
const runs = Number(process.env.RUNS ?? 7);

function timeCommand(argv, env = process.env) {
  const started = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', env });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

function descendants(pid) {
  const parents = new Map();
  for (const entry of spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).stdout.trim().split('\n')) {
    const [p, pp] = entry.trim().split(/\s+/).map(Number);
    parents.set(p, pp);
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    const current = queue.shift();
    for (const [child, parent] of parents) if (parent === current) (out.push(child), queue.push(child));
  }
  return out;
}

async function upOnce() {
  const home = mkdtempSync(join(tmpdir(), 'pm-bench-'));
  const started = Date.now();
  const child = spawn(bin, ['up', hello], { env: { ...process.env, PAASMAKER_HOME: home, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let port;
  while (!(port = /running on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1])) await sleep(2);
  await firstOk(Number(port), Date.now() + 10_000);
  const upMs = Date.now() - started;
  await sleep(200);
  // Processes it started, except the keeper (which must outlive it for a moment, by design).
  const family = descendants(child.pid);
  child.kill('SIGKILL');
  const killed = Date.now();
  while (family.some(alive)) {
    if (Date.now() - killed > 5000) break;
    await sleep(5);
  }
  const deadMs = Date.now() - killed;
  rmSync(home, { recursive: true, force: true });
  return { upMs, deadMs, count: family.length };
}

async function directOnce() {
  const port = await freePort();
  const started = Date.now();
  const child = spawn(process.execPath, ['server.js'], { cwd: hello, env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
  await firstOk(port, Date.now() + 10_000);
  const ms = Date.now() - started;
  child.kill('SIGKILL');
  return ms;
}

const version = [], reference = [], up = [], direct = [], dead = [];
for (let i = 0; i < runs; i++) {
  reference.push(timeCommand([process.execPath, '-e', '0']));
  version.push(timeCommand([bin, '--version']));
  direct.push(await directOnce());
  const r = await upOnce();
  up.push(r.upMs);
  dead.push(r.deadMs);
}
const fmt = (ms) => `${ms.toFixed(0)} ms`;
console.log(`runs: ${runs} (medians)`);
console.log(`paasmaker --version            ${fmt(median(version))}   (node -e 0: ${fmt(median(reference))}, ratio ${(median(version) / median(reference)).toFixed(2)})   target < 300 ms`);
console.log(`up → hello-node answers 200    ${fmt(median(up))}   (node server.js alone: ${fmt(median(direct))}, +${fmt(median(up) - median(direct))})   target < 2000 ms`);
console.log(`kill -9 of up → all dead       ${fmt(median(dead))}   (max ${fmt(Math.max(...dead))})   target < 2000 ms`);

// `ps` while the daemon runs an app, next to `--version` in the same loop.
const daemonHome = mkdtempSync(join(tmpdir(), 'pm-bench-daemon-'));
const daemonEnv = { ...process.env, PAASMAKER_HOME: daemonHome, PAASMAKER_PROXY_PORT: '0', PAASMAKER_DNS_PORT: '0', NO_COLOR: '1' };
try {
  if (spawnSync(bin, ['up', '-d', hello], { env: daemonEnv, stdio: 'ignore' }).status !== 0) throw new Error('up -d failed');
  const ps = [], versionNext = [];
  for (let i = 0; i < runs * 2; i++) {
    versionNext.push(timeCommand([bin, '--version'], daemonEnv));
    ps.push(timeCommand([bin, 'ps'], daemonEnv));
  }
  console.log(`ps (daemon, 1 app)             ${fmt(median(ps))}   (--version in the same loop: ${fmt(median(versionNext))}, +${fmt(median(ps) - median(versionNext))})   target < 150 ms`);
} finally {
  spawnSync(bin, ['daemon', 'stop'], { env: daemonEnv, stdio: 'ignore' });
  rmSync(daemonHome, { recursive: true, force: true });
}
