#!/usr/bin/env node
// The local CA on a first start: the longest stall of the event loop while its root is made
// and the first certificate signed, through the platform's signer (a worker thread) against
// the same signing done on the calling thread (what the router's thread did before), each in
// a fresh process (the X.509 library loads cold), alternated, medians.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { median, root } from './lib.mjs';

const tls = join(root, 'dist', 'src', 'tls');

async function once(how) {
  const dir = mkdtempSync(join(tmpdir(), 'pm-bench-ca-'));
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  worst = 0;
  last = performance.now();
  const began = performance.now();
  if (how === 'thread') {
    const { Certificates } = await import(join(tls, 'index.js'));
    const certificates = new Certificates({ dir });
    await certificates.authority();
    await certificates.leafFor('shop.localhost');
  } else {
    const { sign } = await import(join(tls, 'signing.js'));
    const made = await sign({ kind: 'root', commonName: 'Paasmaker local CA (bench@here)' });
    await sign({ kind: 'leaf', rootPem: made.certPem, rootKeyPem: made.keyPem, name: 'shop.localhost', validityMs: 86_400_000 });
  }
  const total = performance.now() - began;
  clearInterval(timer);
  rmSync(dir, { recursive: true, force: true });
  return { stall: worst, total };
}

if (process.argv[2] === '--one') {
  console.log(JSON.stringify(await once(process.argv[3])));
  process.exit(0);
}

const runs = Number(process.env.RUNS ?? 7);
const results = { thread: [], inline: [] };
for (let i = 0; i < runs; i++) {
  for (const how of ['thread', 'inline']) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', how], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`${how}: ${child.stderr}`);
    results[how].push(JSON.parse(child.stdout));
  }
}
const fmt = (ms) => `${Math.round(ms)} ms`;
console.log(`runs: ${runs} (medians)`);
for (const how of ['thread', 'inline']) {
  const rows = results[how];
  console.log(`${how === 'thread' ? 'signing thread (the platform)' : 'calling thread (reference)  '}   longest stall ${fmt(median(rows.map((row) => row.stall)))} (max ${fmt(Math.max(...rows.map((row) => row.stall)))})   root + first certificate ${fmt(median(rows.map((row) => row.total)))}`);
}
