import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { PaasmakerError } from '../../src/shared/errors.js';
import type { RuntimeContext, RuntimePlan, RuntimePlugin, RuntimeVersion } from '../types.js';
import { binaryVersion, describePosition, managedVersions, onPath, pickVersion, wantedRange } from '../versions.js';

const DEPENDENCY_FILES = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', '.nvmrc', '.node-version'];

/** What the project asks for: the manifest, else .nvmrc/.node-version, else package.json engines.node. */
function wanted(ctx: RuntimeContext): { range?: string; from: string } {
  const { instance, manifest } = ctx;
  if (instance.runtime.version) return { range: wantedRange(instance.runtime.version), from: describePosition(instance.position) };
  for (const file of ['.nvmrc', '.node-version']) {
    const path = join(manifest.directory, file);
    if (existsSync(path)) return { range: wantedRange(readFileSync(path, 'utf8').split('\n')[0]), from: file };
  }
  const pkg = join(manifest.directory, 'package.json');
  if (existsSync(pkg)) {
    try {
      const engines = (JSON.parse(readFileSync(pkg, 'utf8')) as { engines?: { node?: string } }).engines;
      if (engines?.node) return { range: wantedRange(engines.node), from: 'package.json engines.node' };
    } catch {
      // an unreadable package.json is npm's to report
    }
  }
  return { from: 'default' };
}

export const nodeRuntime: RuntimePlugin = {
  name: 'node',

  async versions(env) {
    const home = env.HOME ?? homedir();
    const found: RuntimeVersion[] = [];
    const system = onPath('node', env);
    if (system) {
      const version = await binaryVersion(system);
      if (version) found.push({ version, binDir: dirname(system), source: 'PATH' });
    }
    found.push(...(await managedVersions(join(env.NVM_DIR ?? join(home, '.nvm'), 'versions', 'node'), 'bin', 'node', 'nvm')));
    for (const fnm of [env.FNM_DIR, join(home, '.local', 'share', 'fnm'), join(home, '.fnm')]) {
      if (fnm) found.push(...(await managedVersions(join(fnm, 'node-versions'), join('installation', 'bin'), 'node', 'fnm')));
    }
    found.push(...(await managedVersions(join(env.VOLTA_HOME ?? join(home, '.volta'), 'tools', 'image', 'node'), 'bin', 'node', 'volta')));
    return found;
  },

  async plan(ctx): Promise<RuntimePlan> {
    const { range, from } = wanted(ctx);
    const candidates = await this.versions(ctx.env);
    if (candidates.length === 0) {
      throw new PaasmakerError('RUNTIME_MISSING', `instance "${ctx.instance.name}" needs Node.js, but no \`node\` was found on PATH, nor in nvm, fnm or volta`, {
        hint: 'install Node.js 20 or later (https://nodejs.org, or `apt-get install nodejs`, or `nvm install 20`)',
      });
    }
    const chosen = pickVersion(candidates, range);
    if (!chosen) {
      const newest = [...candidates].sort((a, b) => (a.version < b.version ? 1 : -1))[0]!;
      const major = /\d+/.exec(range ?? '')?.[0] ?? 'node';
      throw new PaasmakerError(
        'RUNTIME_VERSION',
        `instance "${ctx.instance.name}" needs node ${range} (${from}), but the newest node found is v${newest.version} (${join(newest.binDir, 'node')})`,
        { hint: `install one that fits: \`nvm install ${major}\` (or \`fnm install ${major}\`, \`volta install node@${major}\`), then run paasmaker up again` },
      );
    }
    return {
      description: `node v${chosen.version} (${join(chosen.binDir, 'node')})`,
      pathPrepend: chosen.source === 'PATH' ? [] : [chosen.binDir],
      env: {},
      prepare: [],
      fingerprintFiles: DEPENDENCY_FILES.map((file) => join(ctx.manifest.directory, file)).filter((file) => existsSync(file)),
      command: ctx.instance.command,
    };
  },
};
