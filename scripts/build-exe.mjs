#!/usr/bin/env node
// Builds Paasmaker as one executable file, dist/exe/paasmaker-<os>-<arch>:
// Node's single executable application (SEA) made from the node running this
// script. Inside it: scripts/exe/loader.cjs as the main script, and one asset,
// the payload: the CLI bundled by esbuild (ESM, split at its dynamic imports,
// laid out like dist/src/), the web console (dist/console), package.json and
// better-sqlite3's addon. The loader writes the payload once to
// PAASMAKER_HOME/cache/exe-<version>-<hash>/ and runs it from there.
//
// Needs dist/ (npm run build). Builds for the platform it runs on: build the
// macOS or arm64 file by running `npm ci && npm run build:exe` there.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePlatform, PLATFORM_ENTRIES } from './bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const work = join(dist, 'exe', 'work');
const stage = join(work, 'stage');
const target = join(dist, 'exe', `paasmaker-${process.platform}-${process.arch}`);
const started = Date.now();

function die(message, hint) {
  process.stderr.write(`build:exe: ${message}\nhint: ${hint}\n`);
  process.exit(1);
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 12)) die(`node ${process.versions.node} cannot build it`, 'single executables with assets need Node.js 20.12 or later');
if (process.platform === 'win32') die('Windows is not supported', 'build on Linux or macOS');
const entries = PLATFORM_ENTRIES.map((file) => join(dist, 'src', file));
for (const file of [...entries, join(dist, 'console', 'index.html')]) {
  if (!existsSync(file)) die(`${relative(root, file)} is missing`, 'build it first with `npm run build`');
}
const addon = join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
if (!existsSync(addon)) die(`${relative(root, addon)} is missing`, 'install the dependencies with `npm ci`');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

rmSync(work, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });

let metafile;
try {
  metafile = await bundlePlatform({ root, outdir: join(stage, 'dist', 'src'), marker: 'dist/src', sqlite: 'beside' });
} catch (error) {
  die(error.message, 'see scripts/bundle.mjs');
}

writeFileSync(join(stage, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true }, null, 2)}\n`);
copyFileSync(addon, join(stage, 'better_sqlite3.node'));
copyTree(join(dist, 'console'), join(stage, 'dist', 'console'));

/** Runs a step whose output is noise when it works (postject warns about every ELF note it cannot name); shows it when it fails. */
function quiet(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) die(`${[command, ...args].join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})\n${result.stdout}${result.stderr}`, 'see the output above');
}

function copyTree(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) copyTree(join(from, entry.name), join(to, entry.name));
    else if (entry.isFile()) copyFileSync(join(from, entry.name), join(to, entry.name));
  }
}

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)])).sort();
}

// The payload: a 4-byte length, a JSON list of [path, size, mode], the bytes.
const list = files(stage).map((file) => [relative(stage, file).split(sep).join('/'), statSync(file).size, file.endsWith('.node') ? 0o700 : 0o600]);
const header = Buffer.from(JSON.stringify(list));
const length = Buffer.alloc(4);
length.writeUInt32LE(header.length);
const payload = Buffer.concat([length, header, ...list.map(([path]) => readFileSync(join(stage, path)))]);
writeFileSync(join(work, 'payload.bin'), payload);
const hash = createHash('sha256').update(payload).digest('hex').slice(0, 12);

const loader = readFileSync(join(root, 'scripts', 'exe', 'loader.cjs'), 'utf8').replace('__PAASMAKER_VERSION__', pkg.version).replace('__PAASMAKER_HASH__', hash);
writeFileSync(join(work, 'loader.cjs'), loader);
writeFileSync(
  join(work, 'sea-config.json'),
  JSON.stringify({ main: join(work, 'loader.cjs'), output: join(work, 'sea.blob'), disableExperimentalSEAWarning: true, useCodeCache: true, assets: { payload: join(work, 'payload.bin') } }, null, 2),
);
quiet(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')]);

rmSync(target, { force: true });
copyFileSync(process.execPath, target);
chmodSync(target, 0o755);
// Node's symbols and debug information are an eighth of the file and nothing runs without them.
// Stripped before the blob goes in: strip would drop the blob's note.
const stripped = process.platform === 'linux' && spawnSync('strip', ['--strip-all', target], { stdio: 'ignore' }).status === 0;
if (process.platform === 'darwin') quiet('codesign', ['--remove-signature', target]);
const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js');
quiet(process.execPath, [postject, target, 'NODE_SEA_BLOB', join(work, 'sea.blob'), '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2', ...(process.platform === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : [])]);
if (process.platform === 'darwin') quiet('codesign', ['--sign', '-', target]);
rmSync(work, { recursive: true, force: true });

const bundled = Object.values(metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
process.stdout.write(`${relative(root, target)}: ${mb(statSync(target).size)} (node ${process.versions.node}${stripped ? ', stripped' : ''}, bundle ${mb(bundled)}, payload ${mb(payload.length)}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
