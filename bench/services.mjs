#!/usr/bin/env node
// Provisioning times per service plugin, through the engine as `paasmaker up` uses it:
//   cold    — nothing exists: initialise the server's data, start it, create the service;
//   restart — data exists, server stopped (a new `paasmaker up`): start it, find the service;
//   warm    — the server runs: create another app's service.
// Reference, same run: the server's own initialisation tool alone (initdb, mariadb-install-db).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, root } from './lib.mjs';

const { Platform } = await import(join(root, 'dist/src/engine/index.js'));
const { loadManifest } = await import(join(root, 'dist/src/manifest/index.js'));
const { findBinary } = await import(join(root, 'dist/src/services/binaries.js'));
const { serverUser } = await import(join(root, 'dist/src/services/server-user.js'));
const runs = Number(process.env.RUNS ?? 3);
const ms = (started) => Number(process.hrtime.bigint() - started) / 1e6;

function project(app, plugin) {
  const dir = mkdtempSync(join(tmpdir(), 'pm-bench-project-'));
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${app}\ninstances:\n  web:\n    command: node server.js\nservices:\n  db:\n    plugin: ${plugin}\n`);
  return dir;
}

async function timeProvision(home, dir) {
  const platform = await Platform.open({ home, env: process.env });
  try {
    const manifest = loadManifest(dir);
    const started = process.hrtime.bigint();
    await platform.provisionServices(manifest);
    return ms(started);
  } finally {
    await platform.close();
  }
}

/** cold, restart and warm for one plugin, in one fresh PAASMAKER_HOME. */
async function measure(plugin) {
  const home = mkdtempSync(join(tmpdir(), 'pm-bench-home-'));
  const dirs = [project('bench-a', plugin), project('bench-b', plugin)];
  try {
    const cold = await timeProvision(home, dirs[0]);
    const restart = await timeProvision(home, dirs[0]);
    // Warm: keep one platform (and its server) open, provision a second app.
    const platform = await Platform.open({ home, env: process.env });
    try {
      await platform.provisionServices(loadManifest(dirs[0]));
      const started = process.hrtime.bigint();
      await platform.provisionServices(loadManifest(dirs[1]));
      return { cold, restart, warm: ms(started) };
    } finally {
      await platform.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** The bare init tool, as the same user the platform would run it as. */
function reference(argvFor) {
  const dir = mkdtempSync(join(tmpdir(), 'pm-bench-ref-'));
  chmodSync(dir, 0o755);
  const user = serverUser();
  const data = join(dir, 'data');
  mkdirSync(data);
  if (user) spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
  const argv = argvFor(data, user);
  const started = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', ...(user && !argv[0].includes('install-db') ? { uid: user.uid, gid: user.gid } : {}) });
  const took = ms(started);
  rmSync(dir, { recursive: true, force: true });
  return result.status === 0 ? took : undefined;
}

const plugins = [
  ['sqlite', () => undefined],
  ['postgres', () => {
    const initdb = findBinary(['initdb']);
    return initdb ? reference((data) => [initdb, '-D', data, '-U', 'x', '--auth-local=trust', '--no-instructions']) : undefined;
  }],
  ['mysql', () => {
    const install = findBinary(['mariadb-install-db', 'mysql_install_db']);
    return install ? reference((data, user) => [install, '--no-defaults', `--datadir=${data}`, '--skip-test-db', `--user=${user?.name ?? process.env.USER ?? 'root'}`]) : undefined;
  }],
  ['redis', () => undefined],
];

const rows = [];
for (const [plugin, ref] of plugins) {
  const samples = [];
  const refs = [];
  for (let i = 0; i < runs; i++) {
    samples.push(await measure(plugin));
    const r = ref();
    if (r !== undefined) refs.push(r);
  }
  rows.push({ plugin, cold: median(samples.map((s) => s.cold)), restart: median(samples.map((s) => s.restart)), warm: median(samples.map((s) => s.warm)), reference: refs.length ? median(refs) : undefined });
}

const pad = (text, n) => String(text).padEnd(n);
console.log(`\nservice provisioning, median of ${runs} runs (ms); ${new Date().toISOString()}`);
console.log(`${pad('plugin', 10)}${pad('cold', 10)}${pad('restart', 10)}${pad('warm', 10)}reference (init tool alone)`);
for (const row of rows) console.log(`${pad(row.plugin, 10)}${pad(row.cold.toFixed(0), 10)}${pad(row.restart.toFixed(0), 10)}${pad(row.warm.toFixed(0), 10)}${row.reference ? row.reference.toFixed(0) : '-'}`);
