#!/usr/bin/env node
// `paasmaker up` in a terminal while its app prints --rate lines a second (default 1,000): the
// memory (VmRSS) and CPU (% of one core) of up's own process, sampled from /proc every 5 s for
// --seconds S (default 40) after a 10 s warm-up. In the same run, as references: the same `up`
// without a terminal (it prints each line, as foreman or overmind would) and the app's own CPU
// (what making the lines costs). The terminal is tmux's (160×48, what a user sees) when tmux is
// installed, else script(1)'s. Each `up` has its own PAASMAKER_HOME, removed on exit.
//   npm run bench:tui -- [--rate 1000] [--seconds 40]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, cpuTicks, freePort, median, option, rssKb, sleep } from './lib.mjs';

const rate = Math.round(option('rate', 1000));
const seconds = option('seconds', 40);
const warmup = 10;
const temp = mkdtempSync(join(tmpdir(), 'pm-bench-tui-'));
const tmux = !spawnSync('tmux', ['-V']).error;
const sessions = [];
const stray = [];

function cleanup() {
  for (const session of sessions.splice(0)) spawnSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' });
  for (const pid of stray.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
  rmSync(temp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(130));

// An app that prints `rate` lines a second, in 10 ms ticks, each line like a request log's.
const app = `const http = require('http');
const perTick = ${rate} / 100;
let n = 0, owed = 0;
setInterval(() => {
  owed += perTick;
  let out = '';
  for (; owed >= 1; owed--) out += 'GET /api/items/' + (n++) + ' 200 12.3 ms - user agent Mozilla/5.0 (X11; Linux x86_64) request id ' + n.toString(16).padStart(8, '0') + '\\n';
  process.stdout.write(out);
}, 10);
http.createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), process.env.HOST);
`;

/** Clock ticks a second, the unit of cpuTicks. */
const HZ = 100;
const rssMb = (pid) => rssKb(pid) / 1024;
/** The pids whose command line contains every one of the words. */
function pidsWith(...words) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (words.every((word) => cmd.includes(word))) found.push(Number(entry));
    } catch {}
  }
  return found;
}

async function run(name, terminal) {
  const project = join(temp, name);
  mkdirSync(project);
  writeFileSync(join(project, 'paasmaker.yml'), `application:\n  name: chatty-${name}\ninstances:\n  web:\n    command: node app.js\n`);
  writeFileSync(join(project, 'app.js'), app);
  const port = await freePort();
  const env = { ...process.env, PAASMAKER_HOME: join(temp, `${name}-home`), PAASMAKER_DNS_PORT: '0' };
  delete env.CI;
  const argv = [bin, 'up', project, '--proxy-port', String(port), '--no-tls'];
  const quoted = argv.map((word) => `'${word}'`).join(' ');
  if (terminal && tmux) {
    const session = `pm-bench-tui-${process.pid}-${name}`;
    sessions.push(session);
    const envArgs = Object.entries({ PAASMAKER_HOME: env.PAASMAKER_HOME, PAASMAKER_DNS_PORT: '0', ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}) }).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
    spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '48', ...envArgs, `env -u CI ${quoted}`], { env });
  } else if (terminal) {
    stray.push(spawn('script', ['-qfec', quoted, '/dev/null'], { env, stdio: 'ignore', detached: true }).pid);
  } else {
    stray.push(spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'ignore'], detached: true }).pid);
  }
  let upPid;
  let appPid;
  for (let i = 0; i < 600 && !(upPid && appPid); i++) {
    await sleep(100);
    upPid = pidsWith(bin, 'up', project).find((pid) => /(^|\/)node$/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]));
    appPid = pidsWith('node', 'app.js').find((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`PAASMAKER_APP=chatty-${name}`));
  }
  if (!upPid || !appPid) throw new Error(`${name}: up or its app did not start within 60 s`);
  await sleep(warmup * 1000);
  const rss = [];
  const t0 = { up: cpuTicks(upPid), app: cpuTicks(appPid), at: performance.now() };
  for (let elapsed = 0; elapsed < seconds; elapsed += 5) {
    await sleep(5000);
    rss.push(rssMb(upPid));
  }
  const wall = (performance.now() - t0.at) / 1000;
  const cpu = (pid, from) => ((cpuTicks(pid) - from) / HZ / wall) * 100;
  const result = { name, upCpu: cpu(upPid, t0.up), appCpu: cpu(appPid, t0.app), rssMedian: median(rss), rssMax: Math.max(...rss), rssFirst: rss[0], rssLast: rss.at(-1) };
  // q, as a user would; then whatever is left goes.
  try {
    process.kill(upPid, 'SIGINT');
  } catch {}
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(upPid, 0);
      await sleep(100);
    } catch {
      break;
    }
  }
  return result;
}

console.log(`paasmaker up with an app printing ${rate} lines/s: ${warmup} s warm-up, then ${seconds} s sampled; ${new Date().toISOString()}, load ${loadavg()[0].toFixed(1)}`);
console.log(`terminal: ${tmux ? 'tmux 160×48' : 'script(1)'}`);
const rows = process.env.TUI_ONLY ? [await run('tui', true)] : [await run('tui', true), await run('plain', false)];
console.log('\n| up | up CPU % of a core | up RSS MB (median, max; first → last) | the app\'s own CPU % |');
console.log('| --- | --- | --- | --- |');
for (const row of rows) {
  console.log(`| ${row.name === 'tui' ? 'in a terminal (TUI)' : 'no terminal (lines printed)'} | ${row.upCpu.toFixed(1)} | ${row.rssMedian.toFixed(1)}, ${row.rssMax.toFixed(1)}; ${row.rssFirst.toFixed(1)} → ${row.rssLast.toFixed(1)} | ${row.appCpu.toFixed(1)} |`);
}
const tui = rows[0];
if (rows[1]) console.log(`\nTUI: ${tui.upCpu.toFixed(1)}% of a core (target ≤ 10), RSS max ${tui.rssMax.toFixed(1)} MB (target ≤ 100); against printing the lines: CPU ${(tui.upCpu / rows[1].upCpu).toFixed(2)}×`);
process.exitCode = tui.upCpu <= 10 && tui.rssMax <= 100 ? 0 : 1;
