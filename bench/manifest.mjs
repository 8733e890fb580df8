#!/usr/bin/env node
// Manifest reading: a paasmaker.yml whose one instance has 10k / 40k / 100k environment
// keys, each read in a fresh Node process (cold, as a daemon meets it) and then again (warm).
// Files over the 512 KB limit are refused by loadManifest; the reader behind it is then timed
// directly too, to show the time stays linear. Reference, same run: the yaml library's
// parse alone (no positions, no validation). Then the longest event-loop stall while the
// daemon's reader (loadManifestAsync) reads the largest accepted file, next to the plain
// synchronous loadManifest.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './lib.mjs';

const sizes = (process.env.KEYS ?? '10000,18000,40000,100000').split(',').map(Number);
const work = mkdtempSync(join(tmpdir(), 'pm-bench-manifest-'));

function project(keys) {
  const dir = join(work, `env-${keys}`);
  mkdirSync(dir);
  const rows = ['application:', '  name: big', 'instances:', '  web:', '    command: node server.js', '    environment:'];
  for (let i = 0; i < keys; i++) rows.push(`      KEY_${i}: value-${i}`);
  writeFileSync(join(dir, 'paasmaker.yml'), rows.join('\n') + '\n');
  return dir;
}

/** Runs code in a fresh process (an ES module) and returns its JSON answer. */
let scripts = 0;
function fresh(code) {
  const script = join(work, `run-${scripts++}.mjs`);
  writeFileSync(script, code);
  const run = spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout);
}

const manifestModule = JSON.stringify(join(root, 'dist', 'src', 'manifest', 'index.js'));
const readerModule = JSON.stringify(join(root, 'dist', 'src', 'manifest', 'paasmaker-yml.js'));

function readTimes(dir) {
  return fresh(`
    import { readFileSync } from 'node:fs';
    import { createRequire } from 'node:module';
    const { parse } = createRequire(${JSON.stringify(join(root, 'package.json'))})('yaml');
    const { loadManifest } = await import(${manifestModule});
    const { parsePaasmakerYml } = await import(${readerModule});
    const dir = ${JSON.stringify(dir)};
    const text = readFileSync(dir + '/paasmaker.yml', 'utf8');
    let refused;
    const time = (fn) => { const t = performance.now(); try { fn(); } catch (error) { refused = error.message; } return performance.now() - t; };
    const load = time(() => loadManifest(dir));
    const read = refused ? () => parsePaasmakerYml(text, dir + '/paasmaker.yml', dir) : () => loadManifest(dir);
    const cold = refused ? time(read) : load;
    const warm = Math.min(time(read), time(read));
    const yaml = Math.min(time(() => parse(text, { uniqueKeys: false })), time(() => parse(text, { uniqueKeys: false })));
    console.log(JSON.stringify({ cold, warm, yaml, kb: text.length / 1024, refused: refused && load }));
  `);
}

function stall(dir, which) {
  return fresh(`
    const { loadManifest, loadManifestAsync } = await import(${manifestModule});
    let last = performance.now();
    let worst = 0;
    const tick = setInterval(() => { const now = performance.now(); worst = Math.max(worst, now - last); last = now; }, 1);
    await new Promise((r) => setTimeout(r, 50));
    worst = 0;
    const started = performance.now();
    ${which === 'async' ? 'await loadManifestAsync' : 'loadManifest'}(${JSON.stringify(dir)});
    const total = performance.now() - started;
    await new Promise((r) => setTimeout(r, 5));
    clearInterval(tick);
    console.log(JSON.stringify({ total, worst }));
  `);
}

const ms = (value) => `${Math.round(value)} ms`;
try {
  console.log('| keys | file | loadManifest | first read (cold) | warm read | yaml parse alone (warm) |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  let largest;
  for (const keys of sizes) {
    const dir = project(keys);
    const t = readTimes(dir);
    if (!t.refused) largest = dir;
    const verdict = t.refused ? `refused in ${ms(t.refused)} (over 512 KB); the reader alone:` : 'read';
    console.log(`| ${keys.toLocaleString('en-US')} | ${Math.round(t.kb)} KB | ${verdict} | ${ms(t.cold)} | ${ms(t.warm)} | ${ms(t.yaml)} |`);
  }
  console.log('');
  console.log(`| reader, largest accepted file (${largest.split('-').pop()} keys), 3 runs | read took (median) | longest event-loop stall (median, max) |`);
  console.log('| --- | --- | --- |');
  const median = (xs) => [...xs].sort((a, b) => a - b)[1];
  for (const which of ['sync', 'async']) {
    const runs = [0, 1, 2].map(() => stall(largest, which));
    const worst = runs.map((run) => run.worst);
    console.log(`| ${which === 'async' ? 'loadManifestAsync (daemon)' : 'loadManifest (CLI)'} | ${ms(median(runs.map((run) => run.total)))} | ${ms(median(worst))}, ${ms(Math.max(...worst))} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
