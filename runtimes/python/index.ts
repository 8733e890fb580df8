import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { PaasmakerError } from '../../src/shared/errors.js';
import { shellQuote } from '../../src/shared/shell.js';
import type { RuntimePlan, RuntimePlugin, RuntimeVersion } from '../types.js';
import { binaryVersion, describePosition, managedVersions, onPath, pickVersion, wantedRange } from '../versions.js';

const DEPENDENCY_FILES = ['requirements.txt', 'pyproject.toml', 'Pipfile.lock', '.python-version'];

function hasRequirements(file: string): boolean {
  return readFileSync(file, 'utf8')
    .split('\n')
    .some((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

export const pythonRuntime: RuntimePlugin = {
  name: 'python',

  async versions(env) {
    const found: RuntimeVersion[] = [];
    const seen = new Set<string>();
    for (const name of ['python3', ...['13', '12', '11', '10', '9'].map((minor) => `python3.${minor}`)]) {
      const binary = onPath(name, env);
      if (!binary) continue;
      const version = await binaryVersion(binary);
      if (version && !seen.has(version)) {
        seen.add(version);
        found.push({ version, binDir: binary.slice(0, -name.length - 1), source: name === 'python3' ? 'PATH' : name });
      }
    }
    const pyenv = join(env.PYENV_ROOT ?? join(env.HOME ?? homedir(), '.pyenv'), 'versions');
    for (const entry of await managedVersions(pyenv, 'bin', 'python3', 'pyenv')) if (!seen.has(entry.version)) found.push(entry);
    return found;
  },

  async plan(ctx): Promise<RuntimePlan> {
    const { instance, manifest } = ctx;
    const range = wantedRange(instance.runtime.version);
    const candidates = await this.versions(ctx.env);
    if (candidates.length === 0) {
      throw new PaasmakerError('RUNTIME_MISSING', `instance "${instance.name}" needs Python, but no \`python3\` was found on PATH`, {
        hint: 'install Python 3 (`apt-get install python3 python3-venv`, or https://www.python.org)',
      });
    }
    const chosen = pickVersion(candidates, range);
    if (!chosen) {
      const newest = [...candidates].sort((a, b) => semver.rcompare(a.version, b.version))[0]!;
      throw new PaasmakerError(
        'RUNTIME_VERSION',
        `instance "${instance.name}" needs python ${range} (${describePosition(instance.position)}), but the newest python found is ${newest.version} (${newest.binDir})`,
        { hint: `install one that fits (\`pyenv install ${semver.minVersion(range!)?.version ?? range}\`, or your system's python3.X package)` },
      );
    }
    const python = join(chosen.binDir, chosen.source === 'PATH' || chosen.source === 'pyenv' ? 'python3' : chosen.source);
    const plan: RuntimePlan = {
      description: `python ${chosen.version} (${python})`,
      pathPrepend: chosen.source === 'PATH' ? [] : [chosen.binDir],
      env: { PYTHONUNBUFFERED: '1' },
      prepare: [],
      fingerprintFiles: DEPENDENCY_FILES.map((file) => join(manifest.directory, file)).filter((file) => existsSync(file)),
      command: instance.command,
    };
    const requirements = join(manifest.directory, 'requirements.txt');
    if (existsSync(requirements)) {
      const key = createHash('sha256').update(manifest.directory).digest('hex').slice(0, 8);
      const venv = join(ctx.home, 'venvs', `${manifest.application.name}-${key}`);
      plan.env.VIRTUAL_ENV = venv;
      plan.pathPrepend.unshift(join(venv, 'bin'));
      plan.prepare.push(`[ -x ${shellQuote(join(venv, 'bin', 'python'))} ] || ${shellQuote(python)} -m venv ${shellQuote(venv)}`);
      if (hasRequirements(requirements)) {
        plan.prepare.push(`${shellQuote(join(venv, 'bin', 'pip'))} install --disable-pip-version-check -r ${shellQuote(requirements)}`);
      }
    }
    return plan;
  },
};
