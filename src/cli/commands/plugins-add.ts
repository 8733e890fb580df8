import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { PaasmakerError } from '../../shared/errors.js';
import { paasmakerHome } from '../../shared/paths.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  name: 'plugins add',
  description: 'install a plugin package (npm) into PAASMAKER_HOME/plugins; then list it under plugins: in config.yml',
  arguments: [{ name: '<package>', description: 'an npm package (name, name@version) or a packed .tgz' }],
  examples: ['paasmaker plugins add paasmaker-plugin-memcached', 'paasmaker plugins add ./paasmaker-plugin-memcached-0.1.0.tgz'],
  run: ({ args }) => add(args[0] as string),
});

const NPM_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(@[A-Za-z0-9._^~<>=*| -]+)?$/;

function dependencies(dir: string): Record<string, string> {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
  } catch {
    return {};
  }
}

function npmMissing(): PaasmakerError {
  return new PaasmakerError('PLUGIN_INSTALL_FAILED', 'npm is not installed', { hint: 'install Node.js with npm (https://nodejs.org), then run this again; or list a plugin folder by its path in config.yml' });
}

/**
 * `paasmaker plugins add NAME`: `npm install` into $PAASMAKER_HOME/plugins, with
 * the user's npm configuration (registry, proxy, CA). Peer dependencies are
 * not installed: a plugin's `paasmaker/plugin` is the Paasmaker that loads it.
 */
async function add(spec: string): Promise<number> {
  const tarball = /\.(tgz|tar\.gz)$/.test(spec);
  if (!tarball && !NPM_NAME.test(spec)) {
    throw new PaasmakerError('USAGE', `"${spec}" is not an npm package name`, { hint: 'paasmaker plugins add paasmaker-plugin-memcached (or name@version, or a packed .tgz)' });
  }
  const target = isAbsolute(spec) || !tarball ? spec : resolve(spec);
  if (tarball && !existsSync(target)) throw new PaasmakerError('USAGE', `${target} does not exist`, { hint: 'npm pack makes one in a plugin folder' });
  const dir = join(paasmakerHome(), 'plugins');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Its own package.json: npm keeps the list there and never walks up to a project's.
  if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'paasmaker-plugins', private: true, description: 'Plugins installed by paasmaker plugins add' }, null, 2)}\n`);
  const before = dependencies(dir);
  const { execa } = await import('execa');
  const npm = await execa('npm', ['install', '--prefix', dir, '--legacy-peer-deps', '--no-audit', '--no-fund', '--save', target], { reject: false, all: true, stdin: 'ignore' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw npmMissing();
    throw error;
  });
  // reject: false answers a missing npm with a result, not a throw (the single executable needs no node, so npm may well be absent).
  if ((npm as { code?: string }).code === 'ENOENT') throw npmMissing();
  if (npm.exitCode !== 0) {
    throw new PaasmakerError('PLUGIN_INSTALL_FAILED', `npm install ${spec} failed (exit ${npm.exitCode})`, {
      detail: String(npm.all ?? '').trim().split('\n').slice(-15).join('\n'),
      hint: 'check the name (npm view NAME) and your npm configuration (registry, proxy)',
    });
  }
  const after = dependencies(dir);
  const name = Object.keys(after).find((key) => before[key] !== after[key]) ?? spec.replace(/(.)@.*$/, '$1');
  let version = '';
  try {
    version = (JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string }).version ?? '';
  } catch {
    // npm said it installed it; the version is only for the message
  }
  const config = join(paasmakerHome(), 'config.yml');
  process.stdout.write(`installed ${name}${version ? `@${version}` : ''} into ${join(dir, 'node_modules')}\n`);
  process.stdout.write(`to load it, list it in ${config} and restart the platform:\n  plugins:\n    - ${name}\n`);
  return 0;
}
