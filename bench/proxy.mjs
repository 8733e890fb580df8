#!/usr/bin/env node
// npm run bench:proxy — a hello app served directly, through Paasmaker's router (request inspector
// on, and again with it off), through
// http-proxy (keep-alive agent) and through nginx (1 worker, upstream keepalive) if installed,
// each in its own process, measured with wrk in one run. Ratios to direct are what compare.
// TLS rows: the first router again on its TLS port (HTTP/1.1, keep-alive), and nginx with TLS
// (the same certificate) if installed; HTTP/2 on both with h2load (nghttp2-client) if installed;
// then the time of a first handshake for a new name (a certificate signed on demand) against one
// for a name already served.
// Reference rows: a raw Node socket pipe (the ceiling for a proxy in Node) and a real `paasmaker up`
// in a terminal; a CPU µs/request column; then -c256 and 1,000 idle keep-alive connections (MANY=0
// skips them). BASELINE=/other/checkout adds its router; TARGETS=a,b runs only rows named so.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuTicks, freePort } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { RequestLog } = await import('../dist/src/proxy/request-log.js');
const { parseRequestHead, parseResponseHead } = await import('../dist/src/proxy/http1.js');
const { LocalCa } = await import('../dist/src/tls/index.js');
const duration = Number(process.env.DURATION ?? 6);
const rounds = Number(process.env.ROUNDS ?? 2);
// HEADERS=browser sends what a browser sends (a user agent, accepts, a cookie, a referer) instead of Host alone.
const browser = process.env.HEADERS === 'browser';
const extraHeaders = browser
  ? [
      'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
      'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      'Accept-Language: en-GB,en;q=0.9',
      'Accept-Encoding: gzip, deflate, br',
      'Cookie: session=abcdef0123456789abcdef; theme=dark',
      'Referer: http://hello.localhost/',
    ].flatMap((header) => ['-H', header])
  : [];
const children = [];
const temp = mkdtempSync(join(tmpdir(), 'pm-bench-proxy-'));
const cleanup = () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(temp, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is missing: install it (apt-get install wrk)');
  process.exit(1);
}

function start(argv, waitFor = 'ready', env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env });
    children.push(child);
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited with ${code}`)));
    if (!waitFor) return resolve(child);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes(waitFor)) resolve(child);
    });
  });
}

async function listening(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const socket = createServer().listen(port, '127.0.0.1', () => socket.close(() => resolve(false))).on('error', () => resolve(true));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** CPU time (user + system) a process has used, in ms (Linux /proc: 100 ticks a second). */
const cpuMs = (pid) => cpuTicks(pid) * 10;

/** wrk against a target; `url` for TLS ones (https://localhost:PORT/: wrk sends the URL's host as SNI). */
function wrk(port, connections, seconds, pid, url = `http://127.0.0.1:${port}/`) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-H', 'Host: hello.localhost', ...extraHeaders, url];
  const cpuBefore = pid ? cpuMs(pid) : 0;
  const out = spawnSync('wrk', args, { encoding: 'utf8' }).stdout;
  const served = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const toMs = (text) => {
    const m = /([\d.]+)(us|ms|s)/.exec(text ?? '');
    return m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : NaN;
  };
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? /Socket errors: (.*)/.exec(out)?.[1];
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50: toMs(/\s50%\s+(\S+)/.exec(out)?.[1]),
    p99: toMs(/\s99%\s+(\S+)/.exec(out)?.[1]),
    errors: errors ?? null,
    // CPU per request of the process under test: less shaken than throughput by what else the machine runs.
    cpuUs: pid ? ((cpuMs(pid) - cpuBefore) * 1000) / served : NaN,
  };
}

/** h2load (HTTP/2 over TLS): `clients` connections with `streams` requests in flight on each; latency is h2load's mean. */
function h2load(url, clients, streams, seconds, pid) {
  const cpuBefore = pid ? cpuMs(pid) : 0;
  // No --warm-up-time: its requests are not counted, their CPU time would be (each target is warmed before the rounds).
  const out = spawnSync('h2load', ['-t1', `-c${clients}`, `-m${streams}`, '-D', String(seconds), url], { encoding: 'utf8' }).stdout;
  const served = Number(/requests: \d+ total, \d+ started, (\d+) done/.exec(out)?.[1] ?? NaN);
  const mean = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(out);
  const failed = /(\d+) failed, (\d+) errored/.exec(out);
  const codes = /status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const bad = (failed ? Number(failed[1]) + Number(failed[2]) : 0) + (codes ? Number(codes[1]) + Number(codes[2]) : 0);
  return {
    rps: Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN),
    p50: mean ? Number(mean[1]) * (mean[2] === 'us' ? 0.001 : mean[2] === 's' ? 1000 : 1) : NaN,
    p99: NaN,
    errors: bad > 0 ? `${bad} failed or not 2xx/3xx` : null,
    cpuUs: pid ? ((cpuMs(pid) - cpuBefore) * 1000) / served : NaN,
  };
}
const haveH2load = !spawnSync('h2load', ['--version']).error;

/** One measurement of a target: wrk for HTTP/1.1, h2load for HTTP/2 (4 connections × 8 streams: 32 requests in flight, as wrk -c32). */
function measure(target, connections, seconds, pid) {
  if (!target.h2) return wrk(target.port, connections, seconds, pid, target.url);
  return connections === 1 ? h2load(target.url, 1, 1, seconds, pid) : h2load(target.url, 4, connections / 4, seconds, pid);
}

const appPort = await freePort();
await start([process.execPath, join(here, 'fixtures', 'hello.mjs'), String(appPort)]);
const targets = [{ name: 'direct', port: appPort }];
// TARGETS=raw,paasmaker,inspector off… runs only the rows whose names contain one of these (quick comparisons while working).
const only = process.env.TARGETS?.split(',').filter(Boolean);
const wanted = (name) => !only || name === 'direct' || only.some((part) => name.includes(part));

// The reference row: a raw Node socket pipe, one app connection per client connection, bytes copied.
if (wanted('raw node pipe')) {
  const pipePort = await freePort();
  const pipe = await start([process.execPath, join(here, 'fixtures', 'pipe.mjs'), String(appPort), String(pipePort)]);
  targets.push({ name: 'raw node pipe', port: pipePort, pid: pipe.pid });
}

const routerPort = await freePort();
const tlsPort = await freePort();
const tlsDir = join(temp, 'tls');
// ROUTER_NODE_FLAGS='--a --b': this router runs with those node flags (the daemon's, to measure them against BASELINE's router).
const routerFlags = (process.env.ROUTER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const router = await start([process.execPath, ...routerFlags, join(here, 'fixtures', 'router.mjs'), String(appPort), String(routerPort)], 'ready', { ...process.env, TLS_PORT: String(tlsPort), TLS_DIR: tlsDir });
targets.push({ name: 'paasmaker router', port: routerPort, pid: router.pid });

// BASELINE=/path/to/another/checkout (built): its router too, in the same run, to measure a change.
if (process.env.BASELINE) {
  const basePort = await freePort();
  const base = await start([process.execPath, join(process.env.BASELINE, 'bench', 'fixtures', 'router.mjs'), String(appPort), String(basePort)]);
  targets.push({ name: 'router @ baseline', port: basePort, pid: base.pid });
  const basePlainPort = await freePort();
  const basePlain = await start([process.execPath, join(process.env.BASELINE, 'bench', 'fixtures', 'router.mjs'), String(appPort), String(basePlainPort), 'off']);
  targets.push({ name: 'router @ baseline, inspector off', port: basePlainPort, pid: basePlain.pid });
}

// The same router with the request inspector off: the inspector's cost is the ratio of the two.
const plainPort = await freePort();
const plainRouter = await start([process.execPath, join(here, 'fixtures', 'router.mjs'), String(appPort), String(plainPort), 'off']);
targets.push({ name: 'router, inspector off', port: plainPort, pid: plainRouter.pid });

// The router as users meet it: a real `paasmaker up` (own PAASMAKER_HOME, no TTY) serving the same
// hello app as a manifest's web instance, with the platform's traffic counting, inspector and events.
if (wanted('paasmaker up')) {
  const project = join(temp, 'up-project');
  mkdirSync(project);
  writeFileSync(join(project, 'paasmaker.yml'), 'application:\n  name: hello\ninstances:\n  web:\n    command: node server.mjs\n');
  writeFileSync(join(project, 'server.mjs'), readFileSync(join(here, 'fixtures', 'hello.mjs'), 'utf8').replace('Number(process.argv[2])', 'Number(process.env.PORT)'));
  const upPort = await freePort();
  const argv = [join(here, '..', 'bin', 'paasmaker'), 'up', project, '--proxy-port', String(upPort), '--no-tls'];
  // In a terminal (script(1) gives it one), as users run it: the terminal UI draws the traffic too. UP_TTY=0: without.
  const tty = process.env.UP_TTY !== '0' && !spawnSync('script', ['--version']).error;
  const env = { ...process.env, PAASMAKER_HOME: join(temp, 'up-home'), PAASMAKER_DNS_PORT: '0' };
  delete env.CI;
  const up = tty
    ? spawn('script', ['-qfec', argv.map((word) => `'${word}'`).join(' '), '/dev/null'], { env, stdio: 'ignore', detached: true })
    : spawn(argv[0], argv.slice(1), { env, stdio: 'ignore', detached: true });
  await upServes(upPort);
  upPid = listenerPid(upPort);
  targets.push({ name: `paasmaker up (router${tty ? ', TUI' : ''})`, port: upPort, pid: upPid });
}
/** `up`'s own process: stopped (SIGINT, as q or Ctrl-C) before the bench ends, so it stops its app. */
var upPid;
process.on('exit', () => {
  try {
    if (upPid) process.kill(upPid, 'SIGKILL');
  } catch {}
});
async function stopUp() {
  if (!upPid) return;
  try {
    process.kill(upPid, 'SIGINT');
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(upPid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls until `up` answers hello.localhost with the app's 200. */
async function upServes(port) {
  for (let i = 0; i < 600; i++) {
    const out = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: hello.localhost', `http://127.0.0.1:${port}/`], { encoding: 'utf8' }).stdout;
    if (out === '200') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('paasmaker up did not serve hello.localhost within 60 s');
}

/** The process listening on a port (the one running `up`'s router), for its CPU time. */
function listenerPid(port) {
  const out = spawnSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' }).stdout;
  const pid = /pid=(\d+)/.exec(out)?.[1];
  return pid ? Number(pid) : undefined;
}

const proxyPort = await freePort();
await start([process.execPath, join(here, 'fixtures', 'http-proxy.mjs'), String(appPort), String(proxyPort)]);
targets.push({ name: 'http-proxy 1.18 (keep-alive)', port: proxyPort });

const nginx = ['/usr/sbin/nginx', 'nginx'].find((bin) => !spawnSync(bin, ['-v']).error);
if (nginx) {
  const nginxPort = await freePort();
  mkdirSync(join(temp, 'logs'));
  writeFileSync(
    join(temp, 'nginx.conf'),
    `daemon off; master_process off; worker_processes 1; pid ${temp}/nginx.pid; error_log ${temp}/logs/error.log;
     ${process.getuid?.() === 0 ? 'user root;' : ''}
     events { worker_connections 1024; }
     http { access_log off; keepalive_requests 100000000; client_body_temp_path ${temp}; proxy_temp_path ${temp}; fastcgi_temp_path ${temp}; uwsgi_temp_path ${temp}; scgi_temp_path ${temp};
       upstream app { server 127.0.0.1:${appPort}; keepalive 32; }
       server { listen 127.0.0.1:${nginxPort}; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; } } }`,
  );
  await start([nginx, '-p', temp, '-c', join(temp, 'nginx.conf')], null);
  await listening(nginxPort);
  targets.push({ name: 'nginx (1 worker, keepalive)', port: nginxPort });
} else {
  console.log('nginx: not installed, skipped (apt-get install nginx-light); TLS is compared with the router\'s own plain row');
}

// TLS: the first router's TLS port; nginx with TLS (a certificate of the same CA for localhost) beside it.
/** nginx's TLS port and process (one, master_process off), when nginx is there. */
let nginxTls;
let nginxTlsPid;
targets.push({ name: 'router, TLS h1 (keep-alive)', port: tlsPort, pid: router.pid, url: `https://localhost:${tlsPort}/` });
if (nginx) {
  const nginxTlsPort = await freePort();
  const { certPem, keyPem } = await (await LocalCa.open(tlsDir)).issue('localhost', 86_400_000);
  writeFileSync(join(temp, 'localhost.pem'), certPem);
  writeFileSync(join(temp, 'localhost-key.pem'), keyPem, { mode: 0o600 });
  writeFileSync(
    join(temp, 'nginx-tls.conf'),
    `daemon off; master_process off; worker_processes 1; pid ${temp}/nginx-tls.pid; error_log ${temp}/logs/error-tls.log;
     ${process.getuid?.() === 0 ? 'user root;' : ''}
     events { worker_connections 1024; }
     http { access_log off; keepalive_requests 100000000; client_body_temp_path ${temp}; proxy_temp_path ${temp}; fastcgi_temp_path ${temp}; uwsgi_temp_path ${temp}; scgi_temp_path ${temp};
       upstream app { server 127.0.0.1:${appPort}; keepalive 32; }
       server { listen 127.0.0.1:${nginxTlsPort} ssl http2; ssl_certificate ${temp}/localhost.pem; ssl_certificate_key ${temp}/localhost-key.pem;
         location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_set_header X-Forwarded-Proto https; } } }`,
  );
  nginxTlsPid = (await start([nginx, '-p', temp, '-c', join(temp, 'nginx-tls.conf')], null)).pid;
  await listening(nginxTlsPort);
  targets.push({ name: 'nginx TLS h1 (keep-alive)', port: nginxTlsPort, pid: nginxTlsPid, url: `https://localhost:${nginxTlsPort}/` });
  nginxTls = nginxTlsPort;
}
// HTTP/2: the same two TLS ports, ALPN h2 (the router offers it; nginx's listen says http2).
if (haveH2load) {
  targets.push({ name: 'router, TLS h2 (h2load)', port: tlsPort, pid: router.pid, url: `https://localhost:${tlsPort}/`, h2: true });
  if (nginxTls) targets.push({ name: 'nginx TLS h2 (h2load)', port: nginxTls, pid: nginxTlsPid, url: `https://localhost:${nginxTls}/`, h2: true });
} else {
  console.log('h2load: not installed, HTTP/2 rows skipped (apt-get install nghttp2-client)');
}

targets.splice(0, targets.length, ...targets.filter((target) => wanted(target.name)));

// Warm up, then interleave rounds so every target sees the same noise; keep each target's best round.
for (const target of targets) measure(target, 32, 1, undefined);
const results = new Map(targets.map((target) => [target.name, { rps: 0, p50: Infinity, p99: Infinity, errors: null, cpuUs: Infinity }]));
for (let round = 0; round < rounds; round++) {
  for (const target of targets) {
    const load = measure(target, 32, duration, target.pid);
    const single = measure(target, 1, Math.max(2, Math.round(duration / 2)), undefined);
    const best = results.get(target.name);
    best.rps = Math.max(best.rps, load.rps);
    best.p50 = Math.min(best.p50, single.p50);
    best.p99 = Math.min(best.p99, single.p99);
    best.errors = load.errors ?? best.errors;
    best.cpuUs = Math.min(best.cpuUs, load.cpuUs);
  }
}

/**
 * What recording costs the router per request, measured alone (steadier than any throughput on a
 * shared machine): RequestLog.record with parsed heads as the router hands them over, best of 5.
 */
function recordNs() {
  const requestHead = Buffer.from(`GET /hello?x=1 HTTP/1.1\r\nHost: hello.localhost\r\n${extraHeaders.filter((_, i) => i % 2).map((header) => `${header}\r\n`).join('')}\r\n`, 'latin1');
  const responseHead = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sun, 29 Nov 2026 22:15:06 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 12\r\n\r\n', 'latin1');
  // Fresh heads for every request, as the router parses them, so what the log keeps is what it would keep.
  const exchanges = Array.from({ length: 4096 }, () => ({ head: parseRequestHead(requestHead, requestHead.length), response: parseResponseHead(responseHead, responseHead.length), status: 200, bytesIn: 0, bytesOut: 12, upstream: 'hello/web.0', page: undefined, detail: undefined }));
  const log = new RequestLog();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const calls = 2_000_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) log.record('hello', 'web', '127.0.0.1', exchanges[i & 4095], 0.1);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / calls);
  }
  recordNs.last = best;
  return best;
}

const direct = results.get('direct');
const pad = (text, width) => String(text).padEnd(width);
console.log(`\nwrk -t1 -c32 -d${duration}s (throughput) and -c1 (latency), best of ${rounds} interleaved rounds${browser ? ', browser headers' : ''}; ${new Date().toISOString()}`);
console.log(`(h2 rows: h2load -t1 -c4 -m8 and -c1 -m1; their p50 column is h2load's mean, no p99)`);
console.log(`${pad('target', 34)}${pad('req/s', 10)}${pad('ratio', 8)}${pad('p50 @1', 10)}${pad('+p50', 10)}${pad('p99 @1', 10)}${pad('+p99', 10)}CPU µs/req`);
for (const target of targets) {
  const r = results.get(target.name);
  const add = (a, b) => (target.name === 'direct' ? '-' : `+${(a - b).toFixed(3)}`);
  console.log(
    `${pad(target.name, 34)}${pad(Math.round(r.rps), 10)}${pad((r.rps / direct.rps).toFixed(2), 8)}${pad(r.p50.toFixed(3), 10)}${pad(add(r.p50, direct.p50), 10)}${pad(Number.isFinite(r.p99) ? r.p99.toFixed(3) : '-', 10)}${pad(Number.isFinite(r.p99) ? add(r.p99, direct.p99) : '-', 10)}${Number.isFinite(r.cpuUs) ? r.cpuUs.toFixed(1) : '-'}${r.errors ? `  errors: ${r.errors}` : ''}`,
  );
}
const routed = results.get('paasmaker router');
const reference = results.get('http-proxy 1.18 (keep-alive)');
const pipe = results.get('raw node pipe');
const upRow = results.get('paasmaker up (router, TUI)') ?? results.get('paasmaker up (router)');
/** A row against the raw pipe: throughput ratio (target >= 0.85) and added p50 over the pipe's (target <= 0.03 ms). */
const againstPipe = (name, row) =>
  pipe && row && console.log(`${name} / raw pipe: throughput ${(row.rps / pipe.rps).toFixed(2)} (target >= 0.85), added p50 ${(row.p50 - direct.p50).toFixed(3)} ms against the pipe's ${(pipe.p50 - direct.p50).toFixed(3)} ms (target <= pipe + 0.030), CPU per request ${row.cpuUs.toFixed(1)} µs against the pipe's ${pipe.cpuUs.toFixed(1)} µs`);
console.log('');
againstPipe('router', routed);
againstPipe('router, inspector off', results.get('router, inspector off'));
againstPipe('paasmaker up', upRow);
const baseRow = results.get('router @ baseline, inspector off');
if (baseRow && plain0()) console.log(`router CPU per request against the baseline's, inspector off in both: ${plain0().cpuUs.toFixed(1)} / ${baseRow.cpuUs.toFixed(1)} µs = ${(plain0().cpuUs / baseRow.cpuUs).toFixed(2)}`);
function plain0() {
  return results.get('router, inspector off');
}
if (routed && reference) console.log(`router/http-proxy throughput ratio: ${(routed.rps / reference.rps).toFixed(2)} (target >= 1.5)`);
if (routed) console.log(`router ratio to direct: ${(routed.rps / direct.rps).toFixed(2)} (floor 0.30)`);
const plain = results.get('router, inspector off');
if (routed && plain) {
  console.log(`request inspector on/off throughput ratio: ${(routed.rps / plain.rps).toFixed(3)} (cost ${((1 - routed.rps / plain.rps) * 100).toFixed(1)}%, target < 5%)`);
  console.log(`router CPU per request: ${routed.cpuUs.toFixed(1)} µs with the inspector, ${plain.cpuUs.toFixed(1)} µs without (ratio ${(routed.cpuUs / plain.cpuUs).toFixed(3)})`);
  console.log(`request inspector, recording alone: ${recordNs().toFixed(0)} ns a request (${((recordNs.last / 1000 / plain.cpuUs) * 100).toFixed(2)}% of the router's CPU per request)`);
}
const secure = results.get('router, TLS h1 (keep-alive)');
if (secure && routed) console.log(`router TLS/plain throughput ratio: ${(secure.rps / routed.rps).toFixed(2)}; CPU per request ${secure.cpuUs.toFixed(1)} µs over TLS`);
const nginxH1 = results.get('nginx TLS h1 (keep-alive)');
if (secure && nginxH1) console.log(`router TLS / nginx TLS throughput ratio: ${(secure.rps / nginxH1.rps).toFixed(2)} (target >= 0.8); CPU per request ${secure.cpuUs.toFixed(1)} µs against nginx's ${nginxH1.cpuUs.toFixed(1)} µs`);
const secureH2 = results.get('router, TLS h2 (h2load)');
if (secureH2 && secure) console.log(`router TLS h2 throughput ${Math.round(secureH2.rps)} req/s, ${(secureH2.rps / secure.rps).toFixed(2)}× its TLS h1; CPU per request ${secureH2.cpuUs.toFixed(1)} µs over h2`);
const nginxH2 = results.get('nginx TLS h2 (h2load)');
if (secureH2 && nginxH2) console.log(`router TLS h2 / nginx TLS h2 throughput ratio: ${(secureH2.rps / nginxH2.rps).toFixed(2)} (target >= 0.8); CPU per request ${secureH2.cpuUs.toFixed(1)} µs against nginx's ${nginxH2.cpuUs.toFixed(1)} µs`);
await manyConnections();
if (!only || wanted('router, TLS')) {
const handshakes = await handshakeTimes(tlsPort);
console.log(`TLS handshake (new connection, no resumption), median of ${handshakes.runs}: first for a new name (certificate signed then) ${handshakes.fresh.toFixed(1)} ms, a name already served ${handshakes.known.toFixed(1)} ms`);
}
console.log('latency in ms');

/**
 * Deliver 2: the plain HTTP/1.1 rows again at -c256, and at -c32 with 1,000 idle keep-alive
 * connections open beside the load (each made one request, then waits). MANY=0 skips it.
 */
async function manyConnections() {
  if (process.env.MANY === '0') return;
  const rows = targets.filter((target) => !target.url && !target.h2);
  const table = new Map(rows.map((target) => [target.name, { c256: 0, idle: 0 }]));
  for (let round = 0; round < rounds; round++) {
    for (const target of rows) {
      const entry = table.get(target.name);
      entry.c256 = Math.max(entry.c256, wrk(target.port, 256, duration, undefined).rps);
      const idle = await idleConnections(target.port, 1000);
      entry.idle = Math.max(entry.idle, wrk(target.port, 32, duration, undefined).rps);
      for (const socket of idle) socket.destroy();
    }
  }
  const base = table.get('direct');
  console.log(`\nmany connections: wrk -t1 -c256, and -c32 beside 1,000 idle keep-alive connections; best of ${rounds}; ratios to direct in the same column`);
  console.log(`${pad('target', 34)}${pad('-c32 ratio', 12)}${pad('-c256 req/s', 13)}${pad('ratio', 8)}${pad('idle req/s', 12)}${pad('ratio', 8)}worst drop from -c32`);
  for (const target of rows) {
    const r = table.get(target.name);
    const c32 = results.get(target.name).rps / direct.rps;
    const r256 = r.c256 / base.c256;
    const rIdle = r.idle / base.idle;
    const drop = target.name === 'direct' ? '-' : `${(Math.max(0, 1 - Math.min(r256, rIdle) / c32) * 100).toFixed(0)}% (limit 20%)`;
    console.log(`${pad(target.name, 34)}${pad(c32.toFixed(2), 12)}${pad(Math.round(r.c256), 13)}${pad(r256.toFixed(2), 8)}${pad(Math.round(r.idle), 12)}${pad(rIdle.toFixed(2), 8)}${drop}`);
  }
}

/** Opens `count` keep-alive connections to a port, each after one answered request: the idle crowd of a busy site. */
async function idleConnections(port, count) {
  const { connect } = await import('node:net');
  const sockets = [];
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, () =>
        new Promise((resolve) => {
          const socket = connect({ port, host: '127.0.0.1' }, () => socket.write('GET / HTTP/1.1\r\nHost: hello.localhost\r\n\r\n'));
          socket.once('data', () => resolve());
          socket.on('error', () => resolve());
          sockets.push(socket);
        }),
      ),
    );
  }
  return sockets;
}

/** Median handshake times: a new name each time (under *.hello.localhost), and hello.localhost again. */
async function handshakeTimes(port, runs = 9) {
  const once = (servername) =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const socket = tlsConnect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false }, () => {
        socket.destroy();
        resolve(performance.now() - started);
      });
      socket.on('error', reject);
    });
  const fresh = [];
  const known = [];
  for (let i = 0; i < runs; i++) {
    fresh.push(await once(`n${i}-${process.pid}.hello.localhost`));
    known.push(await once('hello.localhost'));
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { runs, fresh: median(fresh), known: median(known) };
}
// The servers under test keep the event loop alive: end here (the exit hook stops them).
await stopUp();
process.exit(0);
