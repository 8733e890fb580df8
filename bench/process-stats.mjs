#!/usr/bin/env node
// The cost of one CPU-and-memory round of the platform (ProcessStats, every 2 s):
// one pass over /proc reading each process's stat file (groupUsage), for 10
// process groups. Reference, same run: `ps -A -o pid,pgid,rss,time`, the child
// process a sampler without /proc would need. Needs a build (npx tsc).
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { median, root } from './lib.mjs';

const { groupUsage } = await import(join(root, 'dist', 'src', 'supervisor', 'group-usage.js'));
const rounds = Number(process.env.ROUNDS ?? 200);
const time = (fn) => {
  const samples = [];
  for (let i = 0; i < rounds; i++) {
    const began = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - began) / 1e6);
  }
  return median(samples);
};

// Ten groups, as an app with ten processes has.
const children = Array.from({ length: 10 }, () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' }));
const groups = new Set(children.map((child) => child.pid));
try {
  const processes = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).length;
  const round = time(() => groupUsage(groups));
  const ps = time(() => execFileSync('ps', ['-A', '-o', 'pid=,pgid=,rss=,time='], { encoding: 'utf8' }));
  console.log(`processes on the machine: ${processes}`);
  console.log(`one round (groupUsage, 10 groups): ${round.toFixed(2)} ms median of ${rounds}; every 2 s: ${((round / 2000) * 100).toFixed(2)}% of a core`);
  console.log(`reference, ps -A once: ${ps.toFixed(2)} ms (ratio ${(ps / round).toFixed(1)})`);
} finally {
  for (const child of children) process.kill(-child.pid, 'SIGKILL');
}
