#!/usr/bin/env node
// The daemon's memory with idle apps: start a daemon as `paasmaker daemon start` does, run
// --apps N (default 20) small apps in it with `up -d`, then sample the daemon's VmRSS (and its
// anonymous and file-backed parts) from /proc every 10 s for --seconds S (default 60), with no
// request sent. Stops the daemon and removes its folders on exit.
//   npm run bench:idle-memory -- [--apps 20] [--seconds 60]
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, option, root, sleep } from './lib.mjs';

const appCount = Math.round(option('apps', 20));
const seconds = option('seconds', 60);
const home = mkdtempSync(join(tmpdir(), 'pm-idle-home-'));
const appsDir = mkdtempSync(join(tmpdir(), 'pm-idle-apps-'));
let env;
let daemonPid;

let cleanedUp = false;
function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (env) spawnSync(bin, ['daemon', 'stop'], { env, stdio: 'ignore', timeout: 40_000 });
  if (daemonPid) {
    try {
      process.kill(daemonPid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(appsDir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

/** VmRSS, RssAnon and RssFile of a process, in MB. */
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile') };
}

/** Whether `daemon run` loads dist/daemon: the rule of bin/paasmaker (there, and not older than dist/src). */
function bundled() {
  try {
    return statSync(join(root, 'dist', 'daemon', 'cli', 'main.js')).mtimeMs >= statSync(join(root, 'dist', 'src', 'cli', 'main.js')).mtimeMs;
  } catch {
    return false;
  }
}

const cli = (args) => new Promise((resolve) => execFile(bin, args, { env, timeout: 60_000 }, (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr })));

const server = `const http = require('http');
const name = process.env.PAASMAKER_APP;
http.createServer((req, res) => res.end(name)).listen(Number(process.env.PORT), '127.0.0.1');
`;

async function main() {
  const port = await freePort();
  // An https port of its own too: on the default one (7655) only one daemon on the machine gets TLS
  // (the others run without, and without its local CA's memory), so runs side by side would differ.
  const tlsPort = await freePort();
  env = { ...process.env, PAASMAKER_HOME: home, PAASMAKER_PROXY_PORT: String(port), PAASMAKER_TLS_PORT: String(tlsPort), PAASMAKER_DNS_PORT: '0', NO_COLOR: '1' };
  const start = spawnSync(bin, ['daemon', 'start', '--proxy-port', String(port)], { env, encoding: 'utf8', timeout: 60_000 });
  if (start.status !== 0) throw new Error(`daemon start exited ${start.status}: ${start.stderr}`);
  daemonPid = JSON.parse(spawnSync(bin, ['daemon', 'status', '--json'], { env, encoding: 'utf8' }).stdout).pid;
  const fresh = memory(daemonPid);
  console.log(`daemon pid ${daemonPid}, its code from ${bundled() ? 'dist/daemon (the bundle)' : 'dist/src'}; load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  for (let i = 1; i <= appCount; i++) {
    const name = `idle-${String(i).padStart(2, '0')}`;
    const dir = join(appsDir, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${name}\ninstances:\n  web:\n    command: node server.js\n`);
    writeFileSync(join(dir, 'server.js'), server);
    const up = await cli(['up', '-d', dir]);
    if (up.code !== 0) throw new Error(`up -d ${name} exited ${up.code}: ${up.stderr || up.stdout}`);
  }
  console.log(`| when | daemon RSS MB | anonymous MB | file-backed MB |\n| --- | --- | --- | --- |`);
  const row = (when, m) => console.log(`| ${when} | ${m.rss.toFixed(1)} | ${m.anon.toFixed(1)} | ${m.file.toFixed(1)} |`);
  row('started, no app', fresh);
  row(`${appCount} apps up`, memory(daemonPid));
  const samples = [];
  for (let at = 10; at <= seconds; at += 10) {
    await sleep(10_000);
    const m = memory(daemonPid);
    samples.push(m.rss);
    row(`idle ${at} s`, m);
  }
  console.log(`idle: ${Math.min(...samples).toFixed(1)}–${Math.max(...samples).toFixed(1)} MB; load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
}

main()
  .catch((error) => {
    console.error(error.message ?? error);
    process.exitCode = 1;
  })
  .finally(cleanup);
