// The single executable's main script (Node's SEA runs one CommonJS script).
// The platform itself is an ESM bundle, packed in the executable as an asset
// with the web console and the SQLite addon: written once to
// PAASMAKER_HOME/cache/exe-<version>-<hash>/ (a tree laid out like the npm
// package, so every path the code finds from its own URL resolves there), then
// imported from that folder on every run.
'use strict';
const { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { homedir } = require('node:os');
const { dirname, join, resolve } = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');
const sea = require('node:sea');

const VERSION = '__PAASMAKER_VERSION__';
const HASH = '__PAASMAKER_HASH__';

function home(env) {
  if (env.PAASMAKER_HOME) return resolve(env.PAASMAKER_HOME);
  return join(env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(homedir(), '.local', 'state'), 'paasmaker');
}

/** The payload: a 4-byte length, a JSON list of [path, size, mode], then the files' bytes one after another. */
function extract(root) {
  const payload = Buffer.from(sea.getAsset('payload'));
  const length = payload.readUInt32LE(0);
  const files = JSON.parse(payload.subarray(4, 4 + length).toString('utf8'));
  const temporary = `${root}.${process.pid}.tmp`;
  rmSync(temporary, { recursive: true, force: true });
  let offset = 4 + length;
  for (const [path, size, mode] of files) {
    const file = join(temporary, path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, payload.subarray(offset, offset + size), { mode });
    offset += size;
  }
  try {
    renameSync(temporary, root);
  } catch (error) {
    // Another run of the same executable got there first: its copy is the same.
    rmSync(temporary, { recursive: true, force: true });
    if (!existsSync(root)) throw error;
  }
}

function fail(message, hint) {
  process.stderr.write(`error: ${message}\nhint: ${hint}\n`);
  process.exit(70);
}

const cache = join(home(process.env), 'cache');
const root = join(cache, `exe-${VERSION}-${HASH}`);
if (!existsSync(root)) {
  try {
    mkdirSync(cache, { recursive: true, mode: 0o700 });
    extract(root);
  } catch (error) {
    fail(`cannot write the platform's files to ${root}: ${error.message}`, 'PAASMAKER_HOME must be a folder you can write to (set PAASMAKER_HOME to choose another)');
  }
}
globalThis.__paasmakerExe = { version: VERSION, root };

// Node 20's single executable has no import() of its own; a script compiled
// with the main context's loader does. Node calls that loader experimental:
// the warning says nothing to a Paasmaker user.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  if (String(warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return;
  return emitWarning.call(process, warning, ...rest);
};
const load = new vm.Script('(url) => import(url)', { filename: 'paasmaker-loader', importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }).runInThisContext();
load(pathToFileURL(join(root, 'dist', 'src', 'cli', 'main.js')).href).then(
  async ({ main }) => {
    process.emitWarning = emitWarning;
    process.exitCode = await main(process.argv);
  },
  (error) => {
    process.emitWarning = emitWarning;
    fail(`the platform's files in ${root} did not load: ${error.stack ?? error}`, `remove ${root} and run paasmaker again`);
  },
);
