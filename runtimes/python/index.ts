import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { PaasmakerError } from '../../src/shared/errors.js';
import { shellQuote } from '../../src/shared/shell.js';
import type { RuntimeContext, RuntimePlan, RuntimePlugin } from '../types.js';
import {
  describePosition,
  fits,
  managedInstalls,
  manifestRange,
  newest,
  pathInterpreter,
  pickVersion,
  readVersionFile,
  toRange,
  uniqueByBinary,
  type Interpreter,
} from '../versions.js';

const DEPENDENCY_FILES = ['requirements.txt', 'pyproject.toml', 'Pipfile.lock', '.python-version'];
/** python3.X binaries worth looking for on PATH. */
const MINORS = [8, 9, 10, 11, 12, 13, 14];

function pyenvRoot(env: NodeJS.ProcessEnv): string {
  return env.PYENV_ROOT || join(env.HOME || homedir(), '.pyenv');
}

/**
 * `python3` on PATH first. Only when it does not fit the range are the
 * python3.X binaries (those that could fit) asked for their versions, and the
 * pyenv installs listed: each spawn costs startup time.
 */
async function pythonVersions(env: NodeJS.ProcessEnv, range = '*', fastPath = true): Promise<Interpreter[]> {
  const system = await pathInterpreter('python3', env);
  if (fastPath && system && fits(system.version, range)) return [system];
  const minors = MINORS.filter((minor) => range === '*' || semver.intersects(`3.${minor}.x`, range, { includePrerelease: true }));
  const versioned = await Promise.all(minors.map((minor) => pathInterpreter(`python3.${minor}`, env)));
  const pyenv = managedInstalls(join(pyenvRoot(env), 'versions'), 'bin', 'python3', 'pyenv');
  return uniqueByBinary([...(system ? [system] : []), ...versioned.filter((found) => found !== undefined), ...pyenv]);
}

interface Wanted {
  range: string;
  text: string;
  from: string;
}

/** What the project asks for: the manifest, else .python-version (same minor release), else any. */
export function wantedPython(ctx: RuntimeContext): Wanted {
  const { instance, manifest } = ctx;
  const fromManifest = manifestRange(instance, 'python', '"3.11", ">=3.9" or "^3.10"');
  if (fromManifest) return { range: fromManifest, text: instance.runtime.version!.trim(), from: describePosition(instance.position) };
  const text = readVersionFile(join(manifest.directory, '.python-version'));
  const range = text === undefined ? undefined : toRange(text);
  if (text && range) {
    const exact = semver.valid(range);
    // pyenv pins a patch release; any patch of that minor behaves the same.
    return { range: exact ? `${semver.major(exact)}.${semver.minor(exact)}.x` : range, text, from: '.python-version' };
  }
  return { range: '*', text: 'any version', from: 'default' };
}

function installHint(range: string, env: NodeJS.ProcessEnv): string {
  const min = range === '*' ? null : semver.minVersion(range);
  const version = min && min.major >= 3 ? `${min.major}.${min.minor}` : undefined;
  const what = version ? `Python ${version}` : range === '*' ? 'Python 3' : `a Python matching ${range}`;
  if (existsSync(pyenvRoot(env))) return `install ${what} with \`pyenv install ${version ?? '<version>'}\`, then run paasmaker up again`;
  const apt = version ? `python${version} python${version}-venv` : 'python3 python3-venv';
  return `install ${what} (your system's package, e.g. \`apt-get install ${apt}\`, or https://www.python.org/downloads/), then run paasmaker up again`;
}

/** A requirements file with nothing but comments and blank lines installs nothing. */
export function hasRequirements(file: string): boolean {
  return readFileSync(file, 'utf8')
    .split('\n')
    .some((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

/** `<home>/venvs/<app>-<hash>`: one venv per project folder, outside the project. */
export function venvDirectory(home: string, app: string, directory: string): string {
  const key = createHash('sha256').update(directory).digest('hex').slice(0, 8);
  return join(home, 'venvs', `${app}-${key}`);
}

export const pythonRuntime: RuntimePlugin = {
  name: 'python',

  versions: (env) => pythonVersions(env, '*', false),

  async plan(ctx): Promise<RuntimePlan> {
    const { instance, manifest } = ctx;
    const wanted = wantedPython(ctx);
    const candidates = await pythonVersions(ctx.env, wanted.range);
    if (candidates.length === 0) {
      throw new PaasmakerError('RUNTIME_MISSING', `instance "${instance.name}" needs python, but no python3 was found on PATH, nor in pyenv`, {
        hint: installHint(wanted.range, ctx.env),
      });
    }
    const chosen = pickVersion(candidates, wanted.range);
    if (!chosen) {
      const best = newest(candidates)!;
      throw new PaasmakerError(
        'RUNTIME_VERSION',
        `instance "${instance.name}" needs python ${wanted.text} (${wanted.from}), but the newest python found is ${best.version} (${best.binary})`,
        { hint: installHint(wanted.range, ctx.env) },
      );
    }
    const plan: RuntimePlan = {
      description: `python ${chosen.version} (${chosen.binary})`,
      // A PATH python is already on PATH; putting /usr/bin in front would shadow nvm's node and friends.
      pathPrepend: chosen.source === 'PATH' ? [] : [chosen.binDir],
      // Buffered output makes logs arrive late or never: the most common complaint about supervised Python.
      env: { PYTHONUNBUFFERED: '1' },
      prepare: [],
      fingerprintFiles: DEPENDENCY_FILES.map((file) => join(manifest.directory, file)).filter((file) => existsSync(file)),
      command: instance.command,
    };
    const requirements = join(manifest.directory, 'requirements.txt');
    if (existsSync(requirements)) {
      const venv = venvDirectory(ctx.home, manifest.application.name, manifest.directory);
      const venvPython = shellQuote(join(venv, 'bin', 'python'));
      const [major, minor] = chosen.version.split('.');
      plan.env.VIRTUAL_ENV = venv;
      plan.outside = [venv];
      plan.pathPrepend.unshift(join(venv, 'bin'));
      // Kept when it works and runs the chosen minor release; rebuilt (--clear) otherwise.
      plan.prepare.push(
        `${venvPython} -c 'import sys; sys.exit(sys.version_info[:2] != (${major}, ${minor}))' 2>/dev/null || ${shellQuote(chosen.binary)} -m venv --clear ${shellQuote(venv)}`,
      );
      if (hasRequirements(requirements)) {
        plan.prepare.push(`${venvPython} -m pip install --disable-pip-version-check -r ${shellQuote(requirements)}`);
      }
    }
    return plan;
  },
};
