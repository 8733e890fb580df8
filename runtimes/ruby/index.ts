import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { PaasmakerError } from '../../src/shared/errors.js';
import { shellQuote } from '../../src/shared/shell.js';
import type { RuntimeContext, RuntimePlan, RuntimePlugin } from '../types.js';
import { describePosition, fits, isExecutable, managedInstalls, manifestRange, newest, onPath, pathInterpreter, pickVersion, readVersionFile, toRange, uniqueByRealpath, type Interpreter } from '../versions.js';

/** ruby3.X binaries worth looking for on PATH (Debian's ruby3.1). */
const MINORS = ['2.7', '3.0', '3.1', '3.2', '3.3', '3.4', '3.5'];
const DEPENDENCY_FILES = ['Gemfile', 'Gemfile.lock', '.ruby-version'];

function rbenvRoot(env: NodeJS.ProcessEnv): string {
  return env.RBENV_ROOT || join(env.HOME || homedir(), '.rbenv');
}

/** chruby's folders: `ruby-3.2.2` (or `3.2.2`) under ~/.rubies and /opt/rubies. */
function chrubyInstalls(env: NodeJS.ProcessEnv): Interpreter[] {
  const found: Interpreter[] = [];
  for (const root of [join(env.HOME || homedir(), '.rubies'), '/opt/rubies']) {
    let entries: string[] = [];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const version = semver.clean(entry.replace(/^ruby-/, ''));
      const binDir = join(root, entry, 'bin');
      if (version && isExecutable(join(binDir, 'ruby'))) found.push({ version, binDir, source: 'chruby', binary: join(binDir, 'ruby') });
    }
  }
  return found;
}

/**
 * `ruby` on PATH first. Only when it does not fit the range are the ruby3.X
 * binaries asked for their versions and the rbenv, asdf and chruby installs
 * listed: each spawn costs startup time.
 */
async function rubyVersions(env: NodeJS.ProcessEnv, range = '*', fastPath = true): Promise<Interpreter[]> {
  const system = await pathInterpreter('ruby', env);
  if (fastPath && system && fits(system.version, range)) return [system];
  const minors = MINORS.filter((minor) => range === '*' || semver.intersects(`${minor}.x`, range, { includePrerelease: true }));
  const versioned = await Promise.all(minors.map((minor) => pathInterpreter(`ruby${minor}`, env)));
  const asdf = join(env.ASDF_DATA_DIR || join(env.HOME || homedir(), '.asdf'), 'installs', 'ruby');
  return uniqueByRealpath([
    ...(system ? [system] : []),
    ...versioned.filter((found) => found !== undefined),
    ...managedInstalls(join(rbenvRoot(env), 'versions'), 'bin', 'ruby', 'rbenv'),
    ...managedInstalls(asdf, 'bin', 'ruby', 'asdf'),
    ...chrubyInstalls(env),
  ]);
}

interface Wanted {
  range: string;
  text: string;
  from: string;
}

/** What the project asks for: the manifest, else .ruby-version (same minor release), else any. */
export function wantedRuby(ctx: RuntimeContext): Wanted {
  const { instance, manifest } = ctx;
  const fromManifest = manifestRange(instance, 'ruby', '"3.2", "3" or ">=3.1"');
  if (fromManifest) return { range: fromManifest, text: instance.runtime.version!.trim(), from: describePosition(instance.position) };
  const text = readVersionFile(join(manifest.directory, '.ruby-version'));
  // rbenv and chruby accept "ruby-3.2.2".
  const range = text === undefined ? undefined : toRange(text.replace(/^ruby-/, ''));
  if (text && range) {
    const exact = semver.valid(range);
    // .ruby-version pins a patch release; any patch of that minor runs the same code.
    return { range: exact ? `${semver.major(exact)}.${semver.minor(exact)}.x` : range, text, from: '.ruby-version' };
  }
  return { range: '*', text: 'any version', from: 'default' };
}

function installHint(range: string, env: NodeJS.ProcessEnv): string {
  const min = range === '*' ? null : semver.minVersion(range);
  const version = min ? `${min.major}.${min.minor}` : undefined;
  const what = version ? `Ruby ${version}` : 'Ruby';
  if (existsSync(rbenvRoot(env))) return `install ${what} with \`rbenv install ${version ?? '<version>'}\` (rbenv install -l lists them), then run paasmaker up again`;
  if (process.platform === 'darwin') return `install ${what} (\`brew install ruby\`, or rbenv: \`brew install rbenv && rbenv install ${version ?? '<version>'}\`), then run paasmaker up again`;
  return `install ${what} (\`apt-get install ruby ruby-bundler\` gives your system's Ruby; rbenv installs other versions), then run paasmaker up again`;
}

/**
 * `<home>/gems/<app>-<hash>/<major.minor>`: the project's gems, outside the project,
 * one folder per Ruby minor release (native gems are built for one).
 */
export function gemsDirectory(home: string, app: string, directory: string): string {
  const key = createHash('sha256').update(directory).digest('hex').slice(0, 8);
  return join(home, 'gems', `${app}-${key}`);
}

export const rubyRuntime: RuntimePlugin = {
  name: 'ruby',
  defaultCommand: true,

  versions: (env) => rubyVersions(env, '*', false),

  async plan(ctx): Promise<RuntimePlan> {
    const { instance, manifest } = ctx;
    const wanted = wantedRuby(ctx);
    const candidates = await rubyVersions(ctx.env, wanted.range);
    if (candidates.length === 0) {
      throw new PaasmakerError('RUNTIME_MISSING', `instance "${instance.name}" needs ruby, but no ruby was found on PATH, nor in rbenv, asdf or chruby`, {
        hint: installHint(wanted.range, ctx.env),
      });
    }
    const chosen = pickVersion(candidates, wanted.range);
    if (!chosen) {
      const best = newest(candidates)!;
      throw new PaasmakerError('RUNTIME_VERSION', `instance "${instance.name}" needs ruby ${wanted.text} (${wanted.from}), but the newest ruby found is ${best.version} (${best.binary})`, {
        hint: installHint(wanted.range, ctx.env),
      });
    }
    const gemfile = join(manifest.directory, 'Gemfile');
    const bundled = existsSync(gemfile);
    const rackup = existsSync(join(manifest.directory, 'config.ru'));
    let command = instance.command;
    if (command === undefined) {
      if (!rackup) {
        throw new PaasmakerError('MANIFEST_INVALID', `instances.${instance.name} needs "command" (the launch command): the project has no config.ru for Paasmaker to run with rackup (${describePosition(instance.position)})`, {
          hint: `for example:\n  ${instance.name}:\n    runtime: ruby\n    command: ${bundled ? 'bundle exec ' : ''}ruby app.rb -p $PORT`,
        });
      }
      command = `${bundled ? 'bundle exec ' : ''}rackup -p $PORT -o 127.0.0.1`;
    }
    const plan: RuntimePlan = {
      description: `ruby ${chosen.version} (${chosen.binary})`,
      // A PATH ruby is already on PATH; putting /usr/bin in front would shadow nvm's node and friends.
      pathPrepend: chosen.source === 'PATH' ? [] : [chosen.binDir],
      env: {},
      prepare: [],
      fingerprintFiles: DEPENDENCY_FILES.map((file) => join(manifest.directory, file)).filter((file) => existsSync(file)),
      command,
    };
    if (bundled) {
      if (!isExecutable(join(chosen.binDir, 'bundle')) && !onPath('bundle', ctx.env)) {
        throw new PaasmakerError('RUNTIME_MISSING', `instance "${instance.name}" has a Gemfile, but bundler (bundle) was not found beside ${chosen.binary} nor on PATH`, {
          hint: chosen.source === 'PATH' ? 'install it (`apt-get install ruby-bundler`, or `gem install bundler`), then run paasmaker up again' : `install it with \`${join(chosen.binDir, 'gem')} install bundler\`, then run paasmaker up again`,
        });
      }
      const [major, minor] = chosen.version.split('.');
      const outside = gemsDirectory(ctx.home, manifest.application.name, manifest.directory);
      const gems = join(outside, `${major}.${minor}`);
      // Gems install under GEM_HOME, outside the project; the system's gems (Debian's ruby-rack) still count,
      // so a Gemfile that needs nothing new installs offline. BUNDLE_PATH would hide them.
      Object.assign(plan.env, {
        GEM_HOME: gems,
        BUNDLE_GEMFILE: gemfile,
        BUNDLE_APP_CONFIG: join(gems, '.bundle'),
        BUNDLE_USER_HOME: join(gems, '.bundle-user'),
        BUNDLE_SILENCE_ROOT_WARNING: '1',
      });
      plan.pathPrepend.unshift(join(gems, 'bin'));
      plan.outside = [outside];
      plan.preparedMarkers = [gems];
      // What is installed already (system gems included) first, then the network.
      plan.prepare.push(`mkdir -p ${shellQuote(gems)} && { bundle check || bundle install --local || bundle install; }`);
    }
    return plan;
  },

  crashHint(lines) {
    const text = lines.join('\n');
    if (/Couldn't find handler for: .*webrick|cannot load such file -- webrick/.test(text)) {
      return 'Ruby 3 ships no web server for rackup: add `gem "webrick"` (or `gem "puma"`) to the Gemfile';
    }
    if (/Could not find .* in (?:locally installed gems|any of the sources)|Bundler::GemNotFound/.test(text)) return 'a gem the Gemfile needs is not installed: run paasmaker up again to bundle install (the prepare log says why it failed)';
    const missing = /cannot load such file -- ([\w/.-]+)/.exec(text)?.[1];
    if (missing) return `Ruby cannot load "${missing}": add its gem to the Gemfile (and run the command with bundle exec)`;
    return undefined;
  },
};
