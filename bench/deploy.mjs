#!/usr/bin/env node
// paasmaker deploy → the new version serving on APP.localhost, for an app whose
// prepare installs its dependencies (npm ci of a lockfile, as guestbook-pg's),
// next to the reference measured in the same run: that prepare alone (npm ci in
// a fresh export of the same commit). What a deploy adds is the difference:
// exporting the commit, starting the version beside the one serving, the
// switch and the drain of the old one.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, median, root } from './lib.mjs';

const rounds = Number(process.env.ROUNDS ?? 3);

function get(port, host) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? body : null));
    });
    req.on('error', () => resolve(null));
    req.end();
  });
}

const git = (cwd, ...args) => execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, stdio: 'ignore' });

/** A repository of a web app with guestbook-pg's package.json and lockfile: prepare is `npm ci`. */
function repository() {
  const dir = mkdtempSync(join(tmpdir(), 'pm-bench-deploy-'));
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(root, 'examples', 'guestbook-pg', file), join(dir, file));
  writeFileSync(join(dir, 'paasmaker.yml'), 'application:\n  name: shipit\ninstances:\n  web:\n    runtime: {name: node}\n    command: node server.js\n');
  git(dir, 'init', '-q');
  return dir;
}

function commit(dir, body) {
  // guestbook-pg's package.json says "type": "module".
  writeFileSync(join(dir, 'server.js'), `import { createServer } from 'node:http';\ncreateServer((req, res) => res.end('${body}')).listen(process.env.PORT, '127.0.0.1');\n`);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', body);
}

function timed(fn) {
  const began = process.hrtime.bigint();
  const result = fn();
  return { ms: Number(process.hrtime.bigint() - began) / 1e6, result };
}

async function main() {
  const dir = repository();
  const home = mkdtempSync(join(tmpdir(), 'pm-bench-home-'));
  const port = await freePort();
  const env = { ...process.env, PAASMAKER_HOME: home, PAASMAKER_DNS_PORT: '0' };
  const deploys = [];
  const prepares = [];
  try {
    execFileSync(bin, ['daemon', 'start', '--proxy-port', String(port)], { env, stdio: 'ignore' });
    commit(dir, 'v0');
    // The first deploy warms npm's cache and makes the version the next ones replace.
    execFileSync(bin, ['deploy', dir], { env, stdio: 'ignore' });
    for (let round = 1; round <= rounds; round++) {
      const body = `v${round}`;
      commit(dir, body);
      const deploy = timed(() => spawnSync(bin, ['deploy', dir], { env, stdio: 'ignore' }));
      if (deploy.result.status !== 0) throw new Error(`paasmaker deploy exited ${deploy.result.status}`);
      const answer = await get(port, 'shipit.localhost');
      if (answer !== body) throw new Error(`shipit.localhost answered ${answer}, not ${body}`);
      deploys.push(deploy.ms);

      // The reference: the same commit exported, and its prepare alone.
      const copy = mkdtempSync(join(tmpdir(), 'pm-bench-prepare-'));
      execFileSync('sh', ['-c', `git -C "$1" archive HEAD | tar -x -C "$2"`, 'sh', dir, copy]);
      const prepare = timed(() => spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: copy, stdio: 'ignore' }));
      if (prepare.result.status !== 0) throw new Error('npm ci failed');
      prepares.push(prepare.ms);
      rmSync(copy, { recursive: true, force: true });
      process.stderr.write(`round ${round}: deploy → serving ${deploys.at(-1).toFixed(0)} ms, npm ci alone ${prepares.at(-1).toFixed(0)} ms\n`);
    }
  } finally {
    spawnSync(bin, ['daemon', 'stop'], { env, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
  const deploy = median(deploys);
  const prepare = median(prepares);
  console.log(`| \`paasmaker deploy\` of a new commit → it serves on APP.localhost | ${deploy.toFixed(0)} ms | its prepare alone (\`npm ci\`): ${prepare.toFixed(0)} ms (+${(deploy - prepare).toFixed(0)} ms, ratio ${(deploy / prepare).toFixed(2)}) |`);
}

await main();
