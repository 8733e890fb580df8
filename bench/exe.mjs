#!/usr/bin/env node
// Issue-22 numbers: the single executable (npm run build:exe) next to the npm
// package (bin/paasmaker, dist/), alternated in the same run:
//   the file's size, and gzipped (as it would be downloaded);
//   `--version` (the executable's first run, which unpacks it, apart);
//   `up examples/hello-node` → first 200 through the router (the app runs on the node on PATH).
// Builds the executable first unless PAASMAKER_EXE names one.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { createGzip } from 'node:zlib';
import { bin, median, root, sleep } from './lib.mjs';

const hello = join(root, 'examples', 'hello-node');
const runs = Number(process.env.RUNS ?? 7);

let exe = process.env.PAASMAKER_EXE;
if (!exe) {
  const started = Date.now();
  if (spawnSync(process.execPath, [join(root, 'scripts', 'build-exe.mjs')], { stdio: 'inherit' }).status !== 0) process.exit(1);
  console.log(`build:exe took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  exe = join(root, 'dist', 'exe', `paasmaker-${process.platform}-${process.arch}`);
}
if (!existsSync(exe)) throw new Error(`${exe} is missing`);

function gzipSize(file) {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    createReadStream(file)
      .pipe(createGzip({ level: 9 }))
      .on('data', (chunk) => (bytes += chunk.length))
      .on('end', () => resolve(bytes))
      .on('error', reject);
  });
}

function env(home) {
  return { ...process.env, PAASMAKER_HOME: home, NO_COLOR: '1', PAASMAKER_PROXY_PORT: '0', PAASMAKER_DNS_PORT: '0', PAASMAKER_TLS_PORT: '0' };
}

function timeCommand(argv, environment) {
  const started = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', env: environment });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function status(port, host) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function firstOk(port, host, deadline) {
  while (Date.now() < deadline) {
    if ((await status(port, host)) === 200) return;
    await sleep(5);
  }
  throw new Error('no answer');
}

async function upOnce(command, home) {
  const started = Date.now();
  const child = spawn(command, ['up', hello], { env: env(home), stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let port;
  while (!(port = /http:\/\/hello-node\.localhost:(\d+)\//.exec(out)?.[1])) {
    if (child.exitCode !== null || Date.now() - started > 30_000) throw new Error(`up failed:\n${out}`);
    await sleep(2);
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await firstOk(Number(port), 'hello-node.localhost', Date.now() + 10_000);
    return Date.now() - started;
  } finally {
    process.kill(child.pid, 'SIGINT');
    await exited;
  }
}

const size = statSync(exe).size;
const gzipped = await gzipSize(exe);
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

// One home per face, kept across runs (the executable unpacks into its own once).
const exeHome = mkdtempSync(join(tmpdir(), 'pm-bench-exe-'));
const pkgHome = mkdtempSync(join(tmpdir(), 'pm-bench-pkg-'));
try {
  const firstRun = timeCommand([exe, '--version'], env(exeHome));
  const exeVersion = [], pkgVersion = [], reference = [], exeUp = [], pkgUp = [];
  for (let i = 0; i < runs; i++) {
    reference.push(timeCommand([process.execPath, '-e', '0'], env(pkgHome)));
    exeVersion.push(timeCommand([exe, '--version'], env(exeHome)));
    pkgVersion.push(timeCommand([bin, '--version'], env(pkgHome)));
  }
  for (let i = 0; i < runs; i++) {
    exeUp.push(await upOnce(exe, exeHome));
    pkgUp.push(await upOnce(bin, pkgHome));
  }
  const fmt = (ms) => `${ms.toFixed(0)} ms`;
  const ratio = (a, b) => (median(a) / median(b)).toFixed(2);
  console.log(`runs: ${runs} (medians), node ${process.versions.node}`);
  console.log(`executable size                ${mb(size)} (gzip -9: ${mb(gzipped)})`);
  console.log(`--version, first run (unpacks) ${fmt(firstRun)}`);
  console.log(`--version                      executable ${fmt(median(exeVersion))}   package ${fmt(median(pkgVersion))}   ratio ${ratio(exeVersion, pkgVersion)}   (node -e 0: ${fmt(median(reference))})`);
  console.log(`up hello-node → first 200      executable ${fmt(median(exeUp))}   package ${fmt(median(pkgUp))}   ratio ${ratio(exeUp, pkgUp)}   (through the router)`);
} finally {
  rmSync(exeHome, { recursive: true, force: true });
  rmSync(pkgHome, { recursive: true, force: true });
}
