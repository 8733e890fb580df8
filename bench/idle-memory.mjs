#!/usr/bin/env node
// The daemon's memory with idle apps: start a daemon as `paasmaker daemon start` does, run
// --apps N (default 20) small apps in it with `up -d`, then sample the daemon's VmRSS (and its
// anonymous and file-backed parts, and its PSS) from /proc every 10 s for --seconds S (default 60), with no
// request sent. Stops the daemon and removes its folders on exit.
//   npm run bench:idle-memory -- [--apps 20] [--seconds 60] [--pm2]
// --pm2 runs pm2's daemon beside it as the reference, with the same apps, sampled at the same
// moments: pm2 from PM2_BIN, else node_modules, else installed once into the temporary folder
// (pm2-bench-7) from the npm registry.
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
const withPm2 = process.argv.includes('--pm2');
const pm2Home = join(home, 'pm2');
let env;
let daemonPid;
let pm2;

let cleanedUp = false;
function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (env) spawnSync(bin, ['daemon', 'stop'], { env, stdio: 'ignore', timeout: 40_000 });
  if (pm2) spawnSync(pm2, ['kill'], { env: { ...process.env, PM2_HOME: pm2Home }, stdio: 'ignore', timeout: 40_000 });
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

/**
 * VmRSS, RssAnon and RssFile of a process, in MB, and its PSS: each page shared with other
 * processes (the node binary's, mapped by the apps too) counted as its share.
 */
function memory(pid) {
  const field = (text, name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) / 1024;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  let pss = NaN;
  try {
    pss = field(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
  } catch {
    // No smaps_rollup (Linux before 4.14): the column stays empty.
  }
  return { rss: field(status, 'VmRSS'), anon: field(status, 'RssAnon'), file: field(status, 'RssFile'), pss };
}

/** Whether `daemon run` loads dist/daemon: the rule of bin/paasmaker (there, and not older than dist/src). */
function bundled() {
  try {
    return statSync(join(root, 'dist', 'daemon', 'cli', 'main.js')).mtimeMs >= statSync(join(root, 'dist', 'src', 'cli', 'main.js')).mtimeMs;
  } catch {
    return false;
  }
}

/** pm2's command: PM2_BIN, the project's node_modules, else pm2 7 installed once into the temporary folder. */
function pm2Command() {
  const found = [process.env.PM2_BIN, join(root, 'node_modules', '.bin', 'pm2'), join(tmpdir(), 'pm2-bench-7', 'node_modules', '.bin', 'pm2')].find((path) => path && !spawnSync(path, ['--version'], { env: { ...process.env, PM2_HOME: pm2Home } }).error);
  if (found) return found;
  const prefix = join(tmpdir(), 'pm2-bench-7');
  console.log(`installing pm2 7 into ${prefix} (once)`);
  const install = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, 'pm2@7'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (install.status !== 0) throw new Error('npm install pm2@7 failed (the npm registry is needed for --pm2)');
  return join(prefix, 'node_modules', '.bin', 'pm2');
}

/** pm2's daemon with the same apps (each on a port of its own choosing: pm2 hands out none); its pid. */
function startPm2() {
  pm2 = pm2Command();
  const pm2Env = { ...process.env, PM2_HOME: pm2Home };
  for (let i = 1; i <= appCount; i++) {
    const name = `idle-${String(i).padStart(2, '0')}`;
    const script = join(appsDir, name, 'server-pm2.js');
    writeFileSync(script, server.replace('Number(process.env.PORT)', '0'));
    const started = spawnSync(pm2, ['start', script, '--name', name], { env: pm2Env, encoding: 'utf8', timeout: 60_000 });
    if (started.status !== 0) throw new Error(`pm2 start ${name} exited ${started.status}: ${started.stderr}`);
  }
  return Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8'));
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
  const pm2Pid = withPm2 ? startPm2() : undefined;
  const pm2Columns = pm2Pid ? ' pm2 RSS MB | anonymous MB | file-backed MB | PSS MB |' : '';
  console.log(`| when | daemon RSS MB | anonymous MB | file-backed MB | PSS MB |${pm2Columns}\n| --- | --- | --- | --- | --- |${pm2Pid ? ' --- | --- | --- | --- |' : ''}`);
  const cells = (m) => ` ${m.rss.toFixed(1)} | ${m.anon.toFixed(1)} | ${m.file.toFixed(1)} | ${Number.isNaN(m.pss) ? '' : m.pss.toFixed(1)} |`;
  const row = (when, m, reference) => console.log(`| ${when} |${cells(m)}${reference ? cells(reference) : pm2Pid ? ' | | | |' : ''}`);
  row('started, no app', fresh);
  row(`${appCount} apps up`, memory(daemonPid), pm2Pid && memory(pm2Pid));
  const samples = [];
  const references = [];
  for (let at = 10; at <= seconds; at += 10) {
    await sleep(10_000);
    const m = memory(daemonPid);
    samples.push(m.rss);
    const reference = pm2Pid && memory(pm2Pid);
    if (reference) references.push(reference.rss);
    row(`idle ${at} s`, m, reference);
  }
  const range = (xs) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} MB`;
  console.log(`idle: ${range(samples)}${pm2Pid ? `; pm2's daemon: ${range(references)}` : ''}; load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
}

main()
  .catch((error) => {
    console.error(error.message ?? error);
    process.exitCode = 1;
  })
  .finally(cleanup);
