#!/usr/bin/env node
// Soak: 20 small apps in one daemon, a bounded steady load through its router for
// --minutes N (default 10), with a `paasmaker ps` every 30 s and a rolling `restart`
// of the next app every 45 s (--restart-every SECONDS). Records failed requests (any
// non-2xx, wrong body, reset or timeout), each with what it was (method, body size,
// new or kept-alive connection, a reused socket or not) and how long after the last
// rolling restart, and every 30 s the daemon's RSS, open descriptors and CPU, and the
// apps' RSS. Verdict: 0 failed, RSS at the end within 10% of minute 1, descriptors flat.
//   npm run bench:soak -- --minutes 2 [--apps 20] [--rate 300] [--connections 5] [--restart-every 3]
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, cpuTicks, freePort, option, rssKb, sleep, statFields } from './lib.mjs';


const minutes = option('minutes', 10);
const appCount = Math.round(option('apps', 20));
const rate = option('rate', 300); // keep-alive requests per second, over every app
const connectionRate = option('connections', 5); // requests per second on a new connection each
const SAMPLE_MS = 30_000;
const restartEveryMs = option('restart-every', 45) * 1000;
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_IN_FLIGHT = 256;
const POST_SHARE = 0.1;
/** Failed requests listed at the end (all are counted). */
const MAX_FAILURES_KEPT = 50;

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const home = mkdtempSync(join(tmpdir(), 'pm-soak-home-'));
const appsDir = mkdtempSync(join(tmpdir(), 'pm-soak-apps-'));
let env;
let daemonPid;
const agents = [];
const timers = [];

// ---- clean-up, whatever happens ----------------------------------------------------------

let cleanedUp = false;
function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const timer of timers) clearInterval(timer);
  for (const agent of agents) agent.destroy();
  if (env) spawnSync(bin, ['daemon', 'stop'], { env, stdio: 'ignore', timeout: 40_000 });
  if (daemonPid && alive(daemonPid)) {
    try {
      process.kill(daemonPid, 'SIGKILL'); // its keeper takes the apps with it
    } catch {
      // gone
    }
  }
  rmSync(appsDir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the daemon and removing ${home}`);
    cleanup();
    process.exit(130);
  });
}

// ---- /proc -------------------------------------------------------------------------------

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function descriptors(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The RSS of every process in the given process groups (an app's shell and its node). */
function groupsRssKb(groups) {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (groups.has(Number(statFields(entry)[2]))) total += rssKb(entry);
    } catch {
      // exited while we looked
    }
  }
  return total;
}

// ---- the daemon, the apps -----------------------------------------------------------------

function cli(args, timeout = 60_000) {
  return new Promise((resolve) => {
    execFile(bin, args, { env, timeout }, (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }));
  });
}

const server = `// A small app: GET answers its name, POST the name and the body's length.
const http = require('http');
const name = process.env.PAASMAKER_APP;
const server = http.createServer((req, res) => {
  let length = 0;
  req.on('data', (chunk) => (length += chunk.length));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(req.method === 'POST' ? name + ' ' + length : name);
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

function writeApp(name) {
  const dir = join(appsDir, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${name}\ninstances:\n  web:\n    command: node server.js\n`);
  writeFileSync(join(dir, 'server.js'), server);
  return dir;
}

// ---- the load -----------------------------------------------------------------------------

const failures = [];
/** Commands that failed (`ps`, `restart`): not requests, but a failed soak all the same. */
const problems = [];
const totals = { sent: 0, ok: 0, failed: 0, skipped: 0, posts: 0, fresh: 0 };
let interval = { sent: 0, failed: 0, latencies: [] };
let inFlight = 0;
let maxInFlight = 0;
let port;
/** When the load began: failures and failed commands are timed from it, as the table's rows are. */
let loadStarted = Date.now();
const elapsed = () => ((Date.now() - loadStarted) / 1000).toFixed(1);

/** The rolling restart begun last: which app, when it began and (once done) ended. */
let lastRestart;

/** Where a failure stands against the last rolling restart. */
function sinceRestart(now) {
  if (!lastRestart) return 'before any restart';
  const began = ((now - lastRestart.began) / 1000).toFixed(1);
  const ended = lastRestart.ended === undefined ? 'still restarting' : `ended ${((now - lastRestart.ended) / 1000).toFixed(1)} s ago`;
  return `restart of ${lastRestart.app} began ${began} s ago, ${ended}`;
}

/** Counts a failure; the first ones are kept with what the request was and when it failed. */
function fail(app, what, how) {
  totals.failed++;
  interval.failed++;
  if (failures.length < MAX_FAILURES_KEPT) failures.push(`${elapsed()} s ${app}: ${what} [${how}; ${sinceRestart(Date.now())}]`);
}

/** One request to an app through the router; checks the status and the body. */
function send(app, agent, post) {
  totals.sent++;
  interval.sent++;
  if (post) totals.posts++;
  if (!agent) totals.fresh++;
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  const body = post ? Buffer.alloc(512 + Math.floor(Math.random() * 16_384), 'x') : undefined;
  const expected = post ? `${app} ${body.length}` : app;
  const sentAt = performance.now();
  let done = false;
  let req;
  const finish = (problem) => {
    if (done) return;
    done = true;
    inFlight--;
    if (problem) fail(app, problem, `${post ? `POST ${body.length} B` : 'GET'} on ${agent ? `a kept-alive connection, ${req.reusedSocket ? 'reused' : 'new'} socket` : 'a new connection'}`);
    else {
      totals.ok++;
      interval.latencies.push(performance.now() - sentAt);
    }
  };
  req = request(
    {
      host: '127.0.0.1',
      port,
      method: post ? 'POST' : 'GET',
      path: post ? '/submit' : `/?n=${totals.sent}`,
      headers: { host: `${app}.localhost`, ...(post ? { 'content-type': 'text/plain', 'content-length': body.length } : {}) },
      agent: agent ?? false,
    },
    (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => finish(res.statusCode < 200 || res.statusCode > 299 ? `${res.statusCode} ${text.slice(0, 120).replace(/\s+/g, ' ')}` : text === expected ? undefined : `unexpected body "${text.slice(0, 60)}"`));
      res.on('error', (error) => finish(`${error.code ?? error.message} while reading the response`));
    },
  );
  req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('timeout'), { code: `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` })));
  // "socket hang up" (ECONNRESET) is a connection closed before an answer; "read ECONNRESET" a reset.
  req.on('error', (error) => finish(error.code && error.message !== error.code ? `${error.code} (${error.message})` : (error.code ?? error.message)));
  req.end(body);
}

/** Issues `perSecond` requests a second, evenly, until stopped; returns the stop function. */
function steady(perSecond, issue) {
  let credit = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    credit += ((now - last) / 1000) * perSecond;
    last = now;
    for (; credit >= 1; credit--) {
      if (inFlight >= MAX_IN_FLIGHT) {
        totals.skipped++;
        continue;
      }
      issue();
    }
  }, 10);
  timers.push(timer);
}

// ---- samples ------------------------------------------------------------------------------

const samples = [];
let lastCpu;
let lastLoadCpu = process.cpuUsage();
let lastSampleAt = performance.now();

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] : NaN;
}

async function sample(at) {
  if (!existsSync(`/proc/${daemonPid}`)) throw new Error(`the daemon (pid ${daemonPid}) exited during the soak`);
  const ps = await cli(['ps', '--json']);
  let rows = [];
  try {
    rows = JSON.parse(ps.stdout);
  } catch {
    problems.push(`${elapsed()} s paasmaker ps exited ${ps.code}: ${ps.stderr.trim().split('\n')[0]}`);
  }
  const running = rows.filter((row) => row.state === 'running').length;
  const now = performance.now();
  const seconds = (now - lastSampleAt) / 1000;
  const cpu = cpuTicks(daemonPid);
  const loadCpu = process.cpuUsage();
  const latencies = interval.latencies.sort((a, b) => a - b);
  const row = {
    at,
    sent: interval.sent,
    failed: interval.failed,
    rps: interval.sent / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    rssMb: rssKb(daemonPid) / 1024,
    fds: descriptors(daemonPid),
    cpu: lastCpu === undefined ? NaN : ((cpu - lastCpu) / clockTicks / seconds) * 100,
    appsMb: groupsRssKb(new Set(rows.map((row) => row.pid).filter(Boolean))) / 1024,
    running: `${running}/${appCount}`,
    loadCpu: ((loadCpu.user + loadCpu.system - lastLoadCpu.user - lastLoadCpu.system) / 1e6 / seconds) * 100,
  };
  lastCpu = cpu;
  lastLoadCpu = loadCpu;
  lastSampleAt = now;
  interval = { sent: 0, failed: 0, latencies: [] };
  samples.push(row);
  printRow(row);
  return row;
}

const columns = [
  ['time', (r) => `${Math.floor(r.at / 60)}:${String(r.at % 60).padStart(2, '0')}`],
  ['sent', (r) => String(r.sent)],
  ['failed', (r) => String(r.failed)],
  ['req/s', (r) => r.rps.toFixed(0)],
  ['p50 ms', (r) => (Number.isNaN(r.p50) ? '—' : r.p50.toFixed(2))],
  ['p99 ms', (r) => (Number.isNaN(r.p99) ? '—' : r.p99.toFixed(2))],
  ['daemon RSS MB', (r) => r.rssMb.toFixed(1)],
  ['fds', (r) => String(r.fds)],
  ['daemon CPU %', (r) => (Number.isNaN(r.cpu) ? '—' : r.cpu.toFixed(1))],
  ['apps RSS MB', (r) => r.appsMb.toFixed(1)],
  ['running', (r) => r.running],
  ['load CPU %', (r) => r.loadCpu.toFixed(1)],
];
const printRow = (row) => console.log(`| ${columns.map(([, cell]) => cell(row)).join(' | ')} |`);

// ---- the run ------------------------------------------------------------------------------

async function main() {
  port = await freePort();
  env = { ...process.env, PAASMAKER_HOME: home, PAASMAKER_PROXY_PORT: String(port), PAASMAKER_DNS_PORT: '0', NO_COLOR: '1' };
  const start = spawnSync(bin, ['daemon', 'start', '--proxy-port', String(port)], { env, encoding: 'utf8', timeout: 60_000 });
  if (start.status !== 0) throw new Error(`daemon start exited ${start.status}: ${start.stderr}`);
  const status = JSON.parse(spawnSync(bin, ['daemon', 'status', '--json'], { env, encoding: 'utf8' }).stdout);
  daemonPid = status.pid;
  console.log(`daemon pid ${daemonPid}, router on 127.0.0.1:${status.proxyPort}, PAASMAKER_HOME ${home}`);

  const names = Array.from({ length: appCount }, (_, i) => `soak-${String(i + 1).padStart(2, '0')}`);
  const upStarted = Date.now();
  for (const name of names) {
    const up = await cli(['up', '-d', writeApp(name)]);
    if (up.code !== 0) throw new Error(`up -d ${name} exited ${up.code}: ${up.stderr || up.stdout}`);
  }
  console.log(`${appCount} apps up in ${((Date.now() - upStarted) / 1000).toFixed(1)} s`);

  // Agents with an idle timeout of their own honour the router's `keep-alive: timeout=30` (closing
  // an idle socket at 29 s), as undici's fetch does; without one, Node's agent keeps an idle socket
  // until the router closes it, and a request sent at that moment meets the close (HTTP/1.1's race).
  const keepAlive = Array.from({ length: 2 }, () => new Agent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 8, timeout: 60_000 }));
  agents.push(...keepAlive);
  let next = 0;
  const pick = () => names[next++ % names.length];
  console.log(`load: ${rate} req/s on ${keepAlive.length} keep-alive agents (8 sockets each) + ${connectionRate} req/s on new connections; ${POST_SHARE * 100}% POST of 0.5–16.5 KB; a rolling restart every ${restartEveryMs / 1000} s; ${minutes} min`);
  console.log(`| ${columns.map(([title]) => title).join(' | ')} |\n|${columns.map(() => ' --- |').join('')}`);

  lastCpu = cpuTicks(daemonPid);
  lastSampleAt = performance.now();
  lastLoadCpu = process.cpuUsage();
  const runStarted = (loadStarted = Date.now());
  steady(rate, () => send(pick(), keepAlive[next % keepAlive.length], Math.random() < POST_SHARE));
  steady(connectionRate, () => send(pick(), undefined, Math.random() < POST_SHARE));

  const restarts = [];
  let restartIndex = 0;
  const restartOne = async () => {
    const app = names[restartIndex++ % names.length];
    const at = Date.now();
    const restart = (lastRestart = { app, began: at, ended: undefined });
    const result = await cli(['restart', app]);
    restart.ended = Date.now();
    restarts.push({ app, code: result.code, ms: Date.now() - at });
    if (result.code !== 0) problems.push(`${elapsed()} s paasmaker restart ${app} exited ${result.code}: ${(result.stderr || result.stdout).trim()}`);
  };
  const restartTimer = setInterval(() => void restartOne(), restartEveryMs);
  timers.push(restartTimer);

  const endAt = runStarted + minutes * 60_000;
  for (let n = 1; runStarted + n * SAMPLE_MS <= endAt; n++) {
    await sleep(runStarted + n * SAMPLE_MS - Date.now());
    await sample(Math.round((n * SAMPLE_MS) / 1000));
  }
  if (Date.now() < endAt) {
    await sleep(endAt - Date.now());
    await sample(Math.round((Date.now() - runStarted) / 1000));
  }
  for (const timer of timers) clearInterval(timer);
  // Let the requests in flight finish (or time out) before counting.
  const drainUntil = Date.now() + REQUEST_TIMEOUT_MS + 1000;
  while (inFlight > 0 && Date.now() < drainUntil) await sleep(50);

  // ---- verdict ----
  const last = samples.at(-1);
  const baseline = samples.find((row) => row.at >= 60 && row !== last) ?? samples[0];
  const rssDrift = (last.rssMb - baseline.rssMb) / baseline.rssMb;
  const fdMargin = Math.max(8, Math.ceil(baseline.fds * 0.1));
  const fds = samples.map((row) => row.fds);
  const achieved = totals.sent / ((Date.now() - runStarted) / 1000);
  console.log(`\nsent ${totals.sent} (${totals.posts} POST, ${totals.fresh} on new connections), answered ${totals.ok}, failed ${totals.failed}, not sent (over ${MAX_IN_FLIGHT} in flight) ${totals.skipped}; at most ${maxInFlight} in flight; ${achieved.toFixed(0)} req/s overall`);
  const restartList = restarts.length > 30 ? `${restarts.length} restarts, ${Math.min(...restarts.map((r) => r.ms))}–${Math.max(...restarts.map((r) => r.ms))} ms each` : restarts.map((r) => `${r.app} ${r.ms} ms`).join(', ');
  console.log(`restarts (every ${restartEveryMs / 1000} s): ${restarts.length} (${restarts.filter((r) => r.code === 0).length} ok), ${restartList || 'none'}`);
  if (failures.length) console.log(`first failures (seconds into the load)${totals.failed > failures.length ? ` (${failures.length} of ${totals.failed})` : ''}:\n  ${failures.join('\n  ')}`);
  if (problems.length) console.log(`failed commands:\n  ${problems.join('\n  ')}`);
  // What the router said of itself (a bug it survived, a refused accept): the daemon's log goes with the home at exit.
  const daemonLog = join(home, 'logs', 'daemon.log');
  const routerLines = existsSync(daemonLog) ? readFileSync(daemonLog, 'utf8').split('\n').filter((line) => line.includes(' router: ')) : [];
  if (routerLines.length) console.log(`the router's lines in the daemon log (${routerLines.length}):\n  ${routerLines.slice(0, 20).join('\n  ')}`);
  const checks = [
    [`0 failed requests`, totals.failed === 0, `${totals.failed} failed`],
    [`daemon RSS at the end within 10% of ${baseline.at} s`, Math.abs(rssDrift) <= 0.1, `${baseline.rssMb.toFixed(1)} → ${last.rssMb.toFixed(1)} MB (${rssDrift >= 0 ? '+' : ''}${(rssDrift * 100).toFixed(1)}%)`],
    [`descriptors flat (end within ±${fdMargin} of ${baseline.at} s)`, Math.abs(last.fds - baseline.fds) <= fdMargin, `${baseline.fds} → ${last.fds} (min ${Math.min(...fds)}, max ${Math.max(...fds)})`],
    [`every app running at the end`, last.running === `${appCount}/${appCount}`, last.running],
    [`every ps and restart succeeded`, problems.length === 0, `${problems.length} failed`],
  ];
  if (achieved < (rate + connectionRate) * 0.9) console.log(`warning: the load generator reached only ${achieved.toFixed(0)} of ${rate + connectionRate} req/s`);
  console.log('');
  for (const [what, ok, detail] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}: ${detail}`);
  const passed = checks.every(([, ok]) => ok);
  console.log(`\nverdict: ${passed ? 'PASS' : 'FAIL'} (${minutes} min, ${appCount} apps; ${new Date().toISOString()})`);
  return passed ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(`soak failed: ${error.stack ?? error}`);
  console.error(`requests: ${totals.sent} sent, ${totals.failed} failed${failures.length ? `; first failures:\n  ${failures.join('\n  ')}` : ''}`);
  if (existsSync(join(home, 'logs', 'daemon.log'))) console.error(`daemon log (last lines):\n${readFileSync(join(home, 'logs', 'daemon.log'), 'utf8').trim().split('\n').slice(-15).join('\n')}`);
} finally {
  cleanup();
}
process.exit(code);
