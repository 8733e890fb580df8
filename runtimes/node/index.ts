import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import semver from 'semver';
import { PaasmakerError } from '../../src/shared/errors.js';
import { installsRoot, RuntimeNotInstalled } from '../installs.js';
import type { RuntimeContext, RuntimePlan, RuntimePlugin } from '../types.js';
import { dependencyInstall, installStep, missingModuleHint } from './dependencies.js';
import { installNode } from './install.js';
import {
  describePosition,
  managedInstalls,
  manifestRange,
  newest,
  onPath,
  pathInterpreter,
  pickVersion,
  readVersionFile,
  toRange,
  uniqueByBinary,
  type Interpreter,
} from '../versions.js';

const DEPENDENCY_FILES = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', '.nvmrc', '.node-version'];

interface VersionManager {
  name: 'nvm' | 'fnm' | 'volta';
  /** The manager's own folder; its presence decides which install command the hint suggests. */
  root: string;
  installs: () => Interpreter[];
  install: (version: string) => string;
}

/** nvm, fnm and volta, where this environment keeps them. */
function versionManagers(env: NodeJS.ProcessEnv): VersionManager[] {
  const home = env.HOME || homedir();
  const nvmRoots = env.NVM_DIR ? [env.NVM_DIR] : [join(home, '.nvm'), ...(env.XDG_CONFIG_HOME ? [join(env.XDG_CONFIG_HOME, 'nvm')] : [])];
  const fnmRoots = env.FNM_DIR
    ? [env.FNM_DIR]
    : [
        ...(env.XDG_DATA_HOME ? [join(env.XDG_DATA_HOME, 'fnm')] : []),
        join(home, '.local', 'share', 'fnm'),
        join(home, '.fnm'),
        join(home, 'Library', 'Application Support', 'fnm'),
      ];
  const voltaRoot = env.VOLTA_HOME || join(home, '.volta');
  return [
    ...[...new Set(nvmRoots)].map((root): VersionManager => ({
      name: 'nvm',
      root,
      installs: () => managedInstalls(join(root, 'versions', 'node'), 'bin', 'node', 'nvm'),
      install: (version) => `nvm install ${version}`,
    })),
    ...[...new Set(fnmRoots)].map((root): VersionManager => ({
      name: 'fnm',
      root,
      installs: () => managedInstalls(join(root, 'node-versions'), join('installation', 'bin'), 'node', 'fnm'),
      install: (version) => `fnm install ${version}`,
    })),
    {
      name: 'volta',
      root: voltaRoot,
      installs: () => managedInstalls(join(voltaRoot, 'tools', 'image', 'node'), 'bin', 'node', 'volta'),
      install: (version) => `volta install node@${version}`,
    },
  ];
}

/** The PATH node first (when it answers), then every managed install: nvm, fnm, volta, and those Paasmaker installed under home. */
async function nodeVersions(env: NodeJS.ProcessEnv, home: string): Promise<Interpreter[]> {
  const system = await pathInterpreter('node', env);
  const managed = versionManagers(env).flatMap((manager) => manager.installs());
  const own = managedInstalls(installsRoot(home, 'node'), 'bin', 'node', 'paasmaker');
  return uniqueByBinary([...(system ? [system] : []), ...managed, ...own]);
}

interface Wanted {
  range: string;
  /** As the user wrote it, for messages. */
  text: string;
  /** Where it was written. */
  from: string;
}

/** What the project asks for: the manifest, else .nvmrc / .node-version, else package.json engines.node, else any. */
export function wantedNode(ctx: RuntimeContext): Wanted {
  const { instance, manifest } = ctx;
  const fromManifest = manifestRange(instance, 'node', '"20", ">=20" or "^20.11"');
  if (fromManifest) return { range: fromManifest, text: instance.runtime.version!.trim(), from: describePosition(instance.position) };
  for (const file of ['.nvmrc', '.node-version']) {
    const text = readVersionFile(join(manifest.directory, file));
    const range = text === undefined ? undefined : toRange(text);
    // A full version ("20.11.1") pins nvm exactly; here any later release of that major will do.
    if (text && range) return { range: semver.valid(range) ? `^${range}` : range, text, from: file };
  }
  const pkg = join(manifest.directory, 'package.json');
  if (existsSync(pkg)) {
    try {
      const text = (JSON.parse(readFileSync(pkg, 'utf8')) as { engines?: { node?: unknown } }).engines?.node;
      const range = typeof text === 'string' ? toRange(text) : undefined;
      if (typeof text === 'string' && range) return { range, text, from: 'package.json engines.node' };
    } catch {
      // An unreadable package.json is npm's to report.
    }
  }
  return { range: '*', text: 'any version', from: 'default' };
}

/** The install command(s) for the managers this machine has, or nodejs.org. */
function installHint(range: string, env: NodeJS.ProcessEnv): string {
  const min = range === '*' ? null : semver.minVersion(range);
  const version = min && min.major > 0 ? String(min.major) : undefined;
  const present = versionManagers(env).filter((manager) => existsSync(manager.root));
  const names = new Set<string>();
  const commands = present.filter((manager) => !names.has(manager.name) && names.add(manager.name)).map((manager) => `\`${manager.install(version ?? '<version>')}\``);
  const what = version ? `Node.js ${version}` : range === '*' ? 'Node.js' : `a Node.js matching ${range}`;
  if (commands.length > 0) return `install ${what} with ${commands.join(' or ')}, then run paasmaker up again`;
  return `install ${what} from https://nodejs.org (or with nvm: \`nvm install ${version ?? '--lts'}\`), then run paasmaker up again`;
}

export const nodeRuntime: RuntimePlugin = {
  name: 'node',

  versions: nodeVersions,

  async plan(ctx): Promise<RuntimePlan> {
    const { instance, manifest } = ctx;
    const wanted = wantedNode(ctx);
    const candidates = await nodeVersions(ctx.env, ctx.home);
    if (candidates.length === 0) {
      throw new RuntimeNotInstalled('node', wanted.range, 'RUNTIME_MISSING', `instance "${instance.name}" needs node, but none was found on PATH, nor in nvm, fnm, volta or ${installsRoot(ctx.home, 'node')}`, installHint(wanted.range, ctx.env));
    }
    const chosen = pickVersion(candidates, wanted.range);
    if (!chosen) {
      const best = newest(candidates)!;
      throw new RuntimeNotInstalled(
        'node',
        wanted.range,
        'RUNTIME_VERSION',
        `instance "${instance.name}" needs node ${wanted.text} (${wanted.from}), but the newest node found is v${best.version} (${best.binary})`,
        installHint(wanted.range, ctx.env),
      );
    }
    const pathPrepend = chosen.source === 'PATH' ? [] : [chosen.binDir];
    // Dependencies are installed by the lockfile's tool, unless the manifest says how to prepare.
    const install = instance.prepare.commands.length === 0 ? dependencyInstall(manifest.directory) : undefined;
    if (install && !onPath(install.tool, { PATH: [...pathPrepend, ctx.env.PATH ?? ''].join(delimiter) })) {
      throw new PaasmakerError('RUNTIME_MISSING', `${install.lockfile ?? 'package.json'} asks for ${install.tool} to install the dependencies of instance "${instance.name}", but it is not on PATH`, {
        hint: `turn it on with \`corepack enable\` (it comes with Node.js) or \`npm install -g ${install.tool}\`, or give instances.${instance.name} a prepare of its own`,
      });
    }
    return {
      description: `node v${chosen.version} (${chosen.binary})`,
      pathPrepend,
      env: {},
      prepare: install ? [installStep(install)] : [],
      fingerprintFiles: DEPENDENCY_FILES.map((file) => join(manifest.directory, file)).filter((file) => existsSync(file)),
      preparedMarkers: install ? [join(manifest.directory, install.marker)] : [],
      command: instance.command,
    };
  },

  install: installNode,

  crashHint: missingModuleHint,
};
