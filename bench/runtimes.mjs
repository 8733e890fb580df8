#!/usr/bin/env node
// Node.js versions on demand, each next to a reference measured in the same run:
//   `paasmaker runtimes install node@<major>` into an empty PAASMAKER_HOME (cold: nothing cached)
//     vs `npm pack node-<platform>-<arch>@<that version>` into an empty npm cache (the download alone);
//   `paasmaker up` of an app on the installed version → first 200 from the instance
//     vs the same app on the system node (no version asked).
// NODE_MAJOR (default 18) picks the version; RUNS the runs (default 3 installs, 5 starts).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, firstOk, median, sleep } from './lib.mjs';

const major = process.env.NODE_MAJOR ?? '18';
const installs = Number(process.env.RUNS ?? 3);
const starts = Number(process.env.RUNS ?? 5);
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const fmtMs = (ms) => `${Math.round(ms)} ms`;
const temp = (prefix) => mkdtempSync(join(tmpdir(), prefix));

function timed(argv, env) {
  const started = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${result.stderr}`);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, stdout: result.stdout };
}

/** `paasmaker up` of a project until its instance answers 200; then stopped. */
async function upOnce(project, runtimes) {
  const home = temp('pm-bench-rt-home-');
  if (runtimes) symlinkSync(runtimes, join(home, 'runtimes'));
  const started = Date.now();
  const env = { ...process.env, PAASMAKER_HOME: home, NO_COLOR: '1', PAASMAKER_PROXY_PORT: '0', PAASMAKER_DNS_PORT: '0', PAASMAKER_TLS_PORT: '0' };
  const child = spawn(bin, ['up', project, '--no-tui', '--no-watch'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let port;
  while (!(port = /running on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1])) {
    if (child.exitCode !== null) throw new Error(`up failed:\n${out}`);
    await sleep(2);
  }
  await firstOk(Number(port), Date.now() + 30_000);
  const ms = Date.now() - started;
  if (/install node/.test(out)) throw new Error('the app on the installed version installed it again');
  child.kill('SIGINT');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(home, { recursive: true, force: true });
  return ms;
}

function project(version) {
  const dir = temp('pm-bench-rt-app-');
  const runtime = version ? `    runtime: {name: node, version: "${version}"}\n` : '';
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: rt-bench\ninstances:\n  web:\n${runtime}    command: node server.js\n`);
  writeFileSync(join(dir, 'server.js'), "require('http').createServer((q, s) => s.end(process.version)).listen(Number(process.env.PORT), '127.0.0.1');\n");
  return dir;
}

// Cold installs, each beside the download alone, alternating.
const pkg = `node-${process.platform}-${process.arch}`;
const install = [];
const download = [];
let version;
let kept;
for (let run = 0; run < installs; run++) {
  const cache = temp('pm-bench-npm-cache-');
  const packed = temp('pm-bench-packed-');
  const home = temp('pm-bench-rt-cold-');
  try {
    const ours = timed([bin, 'runtimes', 'install', `node@${major}`], { PAASMAKER_HOME: home, NO_COLOR: '1' });
    install.push(ours.ms);
    version = readdirSync(join(home, 'runtimes', 'node'))[0];
    download.push(timed(['npm', 'pack', `${pkg}@${version}`, '--pack-destination', packed], { npm_config_cache: cache }).ms);
  } finally {
    rmSync(cache, { recursive: true, force: true });
    rmSync(packed, { recursive: true, force: true });
    if (run === installs - 1) kept = home;
    else rmSync(home, { recursive: true, force: true });
  }
}
console.log(`node ${version} (${pkg}), ${installs} cold installs, medians:`);
console.log(`paasmaker runtimes install node@${major}    ${fmt(median(install))}   (npm pack ${pkg}@${version} alone: ${fmt(median(download))}, +${fmt(median(install) - median(download))})`);

// Starts: on the installed version vs on the system node.
const onInstalled = project(major);
const onSystem = project(undefined);
const installed = [];
const system = [];
try {
  for (let run = 0; run < starts; run++) {
    installed.push(await upOnce(onInstalled, join(kept, 'runtimes')));
    system.push(await upOnce(onSystem));
  }
} finally {
  for (const dir of [onInstalled, onSystem, kept]) rmSync(dir, { recursive: true, force: true });
}
console.log(`up → first 200 on node ${version} (installed)   ${fmtMs(median(installed))}   (on the system node ${process.version}: ${fmtMs(median(system))}, ${median(installed) >= median(system) ? '+' : ''}${fmtMs(median(installed) - median(system))})`);
