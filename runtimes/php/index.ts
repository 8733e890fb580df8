import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import semver from 'semver';
import { z } from 'zod';
import { PaasmakerError } from '../../src/shared/errors.js';
import { shellQuote } from '../../src/shared/shell.js';
import type { RuntimeContext, RuntimePlan, RuntimePlugin } from '../types.js';
import { binaryVersion, describePosition, fits, isExecutable, manifestRange, newest, onPath, pathInterpreter, pickVersion, toRange, uniqueByRealpath, type Interpreter } from '../versions.js';

/** php8.X and php7.X binaries worth looking for on PATH (Debian and Ubuntu install php8.2 with php as an alternative). */
const VERSIONED = [...[0, 1, 2, 3, 4, 5].map((minor) => `8.${minor}`), '7.4', '7.3'];

const WORKERS = 'must be a whole number from 1 to 64';

export const phpOptions = z.strictObject({
  /** The folder the built-in server serves, relative to the project: `public` when there is one, else the project. */
  document_root: z.string({ error: 'must be a folder (a string), relative to the project' }).min(1, { error: 'must not be empty' }).optional(),
  /** A router script for the built-in server (a front controller such as index.php), relative to the project. */
  router: z.string({ error: 'must be a PHP file (a string), relative to the project' }).min(1, { error: 'must not be empty' }).optional(),
  /** PHP_CLI_SERVER_WORKERS: requests the built-in server answers at once in each process. */
  workers: z.number({ error: WORKERS }).int({ error: WORKERS }).min(1, { error: WORKERS }).max(64, { error: WORKERS }).optional(),
});

type PhpOptions = z.infer<typeof phpOptions>;

/** Homebrew's keg-only php@8.X installs (macOS). */
function brewBinaries(): string[] {
  return ['/opt/homebrew/opt', '/usr/local/opt'].flatMap((root) => VERSIONED.map((version) => join(root, `php@${version}`, 'bin', 'php'))).filter(isExecutable);
}

/**
 * `php` on PATH first. Only when it does not fit the range are the php8.X
 * binaries that could fit asked for their versions: each spawn costs startup.
 * One entry per real binary (`php` is often a link to php8.2).
 */
async function phpVersions(env: NodeJS.ProcessEnv, range = '*', fastPath = true): Promise<Interpreter[]> {
  const system = await pathInterpreter('php', env);
  if (fastPath && system && fits(system.version, range)) return [system];
  const versions = VERSIONED.filter((version) => range === '*' || semver.intersects(`${version}.x`, range, { includePrerelease: true }));
  const versioned = await Promise.all(versions.map((version) => pathInterpreter(`php${version}`, env)));
  const brewed = await Promise.all(
    brewBinaries().map(async (binary): Promise<Interpreter | undefined> => {
      const version = await binaryVersion(binary);
      return version ? { version, binDir: join(binary, '..'), source: 'homebrew', binary } : undefined;
    }),
  );
  return uniqueByRealpath([...(system ? [system] : []), ...versioned, ...brewed].filter((found) => found !== undefined));
}

interface Wanted {
  range: string;
  text: string;
  from: string;
}

/** What the project asks for: the manifest, else composer.json's require.php (when it reads as a range), else any. */
export function wantedPhp(ctx: RuntimeContext): Wanted {
  const { instance, manifest } = ctx;
  const fromManifest = manifestRange(instance, 'php', '"8.2", "8" or ">=8.1"');
  if (fromManifest) return { range: fromManifest, text: instance.runtime.version!.trim(), from: describePosition(instance.position) };
  try {
    const composer = JSON.parse(readFileSync(join(manifest.directory, 'composer.json'), 'utf8')) as { require?: Record<string, unknown> };
    const text = composer.require?.php;
    // Composer writes "|" for "or" where semver writes "||".
    const range = typeof text === 'string' ? toRange(text.replace(/\s*\|\|?\s*/g, ' || ')) : undefined;
    if (typeof text === 'string' && range) return { range, text, from: 'composer.json require.php' };
  } catch {
    // No composer.json, or one that is not JSON: composer itself will say so.
  }
  return { range: '*', text: 'any version', from: 'default' };
}

function installHint(range: string): string {
  const min = range === '*' ? null : semver.minVersion(range);
  const version = min ? `${min.major}.${min.minor}` : undefined;
  const what = version ? `PHP ${version}` : 'PHP';
  if (process.platform === 'darwin') return `install ${what} with \`brew install ${version ? `php@${version}` : 'php'}\`, then run paasmaker up again`;
  return `install ${what} (\`apt-get install ${version ? `php${version}-cli` : 'php-cli'}\`; Debian and Ubuntu ship other versions from packages.sury.org), then run paasmaker up again`;
}

/**
 * A folder under PAASMAKER_HOME where `php` is the chosen binary: php8.3 chosen
 * beside a `php` that is 8.2 must still be what `php artisan` and composer run.
 */
function phpShim(home: string, binary: string, version: string): string {
  // One folder per binary: two installs of one version (php8.3 and Homebrew's) never share a link.
  const dir = join(home, 'shims', `php-${version}-${createHash('sha256').update(binary).digest('hex').slice(0, 8)}`);
  const link = join(dir, 'php');
  if (linkTarget(link) === binary) return dir;
  mkdirSync(dir, { recursive: true });
  try {
    symlinkSync(binary, link);
  } catch (error) {
    // Another app's plan made it at the same moment.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || linkTarget(link) !== binary) throw error;
  }
  return dir;
}

function linkTarget(link: string): string | undefined {
  try {
    return readlinkSync(link);
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function insideProject(project: string, path: string): boolean {
  const within = relative(project, path);
  return within === '' || (!within.startsWith('..') && !isAbsolute(within));
}

/** The built-in server's command line: document root, optional router script, on 127.0.0.1:$PORT. */
function builtInServer(ctx: RuntimeContext, php: string, options: PhpOptions): string {
  const { instance, manifest } = ctx;
  const at = describePosition(instance.position);
  const root = options.document_root === undefined ? (isDirectory(join(manifest.directory, 'public')) ? join(manifest.directory, 'public') : manifest.directory) : resolve(manifest.directory, options.document_root);
  // The router serves what the document root holds to any browser: the project's own files, never the rest of the disk.
  for (const [option, path] of [['document_root', root], ['router', options.router === undefined ? undefined : resolve(manifest.directory, options.router)]] as const) {
    if (path !== undefined && !insideProject(manifest.directory, path)) {
      throw new PaasmakerError('MANIFEST_INVALID', `instance "${instance.name}": runtime ${option} ${path} is outside the project ${manifest.directory} (${at})`, {
        hint: `name a folder inside the project, such as public`,
      });
    }
  }
  if (!isDirectory(root)) {
    throw new PaasmakerError('RUNTIME_MISSING', `instance "${instance.name}" serves ${root} with PHP's built-in server, which is not a folder (${at})`, {
      hint: `create it, or set runtime: {name: php, document_root: <folder>} on instances.${instance.name}`,
    });
  }
  let router = '';
  if (options.router !== undefined) {
    const file = resolve(manifest.directory, options.router);
    if (!existsSync(file)) {
      throw new PaasmakerError('RUNTIME_MISSING', `instance "${instance.name}" names the router script ${file}, which does not exist (${at})`, {
        hint: 'create it, or remove "router" from the runtime to let the built-in server find index.php itself',
      });
    }
    router = ` ${shellQuote(file)}`;
  }
  return `${shellQuote(php)} -S 127.0.0.1:$PORT -t ${shellQuote(root)}${router}`;
}

/** The pdo driver a DSN needs, and the Debian package that brings it. */
const DRIVERS: Array<[RegExp, string]> = [
  [/sqlite/i, 'php-sqlite3'],
  [/mysql|maria/i, 'php-mysql'],
  [/pgsql|postgres/i, 'php-pgsql'],
];

export const phpRuntime: RuntimePlugin = {
  name: 'php',
  options: phpOptions,
  defaultCommand: true,

  versions: (env) => phpVersions(env, '*', false),

  async plan(ctx): Promise<RuntimePlan> {
    const { instance, manifest } = ctx;
    const parsed = phpOptions.safeParse(instance.runtime.options ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new PaasmakerError('MANIFEST_INVALID', `instances.${instance.name}.runtime.${issue.path.join('.') || 'options'}: ${issue.message} (${describePosition(instance.position)})`, {
        hint: `the php runtime takes: ${Object.keys(phpOptions.shape).join(', ')}`,
      });
    }
    const options = parsed.data;
    const wanted = wantedPhp(ctx);
    const candidates = await phpVersions(ctx.env, wanted.range);
    if (candidates.length === 0) {
      throw new PaasmakerError('RUNTIME_MISSING', `instance "${instance.name}" needs php, but no php was found on PATH (php, php8.X)`, { hint: installHint(wanted.range) });
    }
    const chosen = pickVersion(candidates, wanted.range);
    if (!chosen) {
      const found = candidates.map((candidate) => `${candidate.version} (${candidate.binary})`).join(', ');
      throw new PaasmakerError('RUNTIME_VERSION', `instance "${instance.name}" needs php ${wanted.text} (${wanted.from}), but the php found ${candidates.length === 1 ? 'is' : 'are'} ${found}`, {
        hint: installHint(wanted.range),
      });
    }
    const env: Record<string, string> = {};
    if (options.workers !== undefined && options.workers > 1) env.PHP_CLI_SERVER_WORKERS = String(options.workers);
    const plan: RuntimePlan = {
      description: `php ${chosen.version} (${chosen.binary})`,
      // The php on PATH is already `php`; another one gets a folder where it is.
      pathPrepend: chosen.source === 'PATH' && chosen.binary.endsWith('/php') ? [] : [phpShim(ctx.home, chosen.binary, chosen.version)],
      env,
      prepare: [],
      fingerprintFiles: ['composer.json', 'composer.lock'].map((file) => join(manifest.directory, file)).filter((file) => existsSync(file)),
      command: instance.command ?? builtInServer(ctx, chosen.binary, options),
    };
    // composer install, unless the manifest says how to prepare.
    if (existsSync(join(manifest.directory, 'composer.json')) && instance.prepare.commands.length === 0) {
      if (!onPath('composer', ctx.env)) {
        throw new PaasmakerError('RUNTIME_MISSING', `instance "${instance.name}" has a composer.json, but composer was not found on PATH`, {
          hint:
            process.platform === 'darwin'
              ? 'install it with `brew install composer`, then run paasmaker up again'
              : 'install it (`apt-get install composer`, or https://getcomposer.org/download/), or give the instance a `prepare:` of its own',
        });
      }
      plan.env.COMPOSER_NO_INTERACTION = '1';
      plan.prepare.push('composer install --no-interaction --prefer-dist --no-progress');
      plan.preparedMarkers = [join(manifest.directory, 'vendor', 'autoload.php')];
    }
    return plan;
  },

  crashHint(lines, directory) {
    const text = lines.join('\n');
    if (/Class "[^"]+" not found|vendor\/autoload\.php/.test(text) && existsSync(join(directory, 'composer.json')) && !existsSync(join(directory, 'vendor', 'autoload.php'))) {
      return 'the dependencies are not installed: run `composer install` in the project (Paasmaker runs it when the instance has no prepare of its own)';
    }
    if (/could not find driver/i.test(text)) {
      const dsn = /(?:DATABASE_URL|dsn|PDO)[^\n]*/i.exec(text)?.[0] ?? text;
      const driver = DRIVERS.find(([pattern]) => pattern.test(dsn))?.[1];
      return `PHP lacks the PDO driver for this database: install it (\`apt-get install ${driver ?? 'php-sqlite3, php-mysql or php-pgsql'}\`), then restart the app`;
    }
    const fn = /Call to undefined function (mysqli_\w+|pg_\w+|sqlite_\w+|mb_\w+|curl_\w+|simplexml_\w+|gd\w*|imagecreate\w*)/.exec(text)?.[1];
    if (fn) {
      const pkg = fn.startsWith('mysqli') ? 'php-mysql' : fn.startsWith('pg_') ? 'php-pgsql' : fn.startsWith('sqlite') ? 'php-sqlite3' : fn.startsWith('mb_') ? 'php-mbstring' : fn.startsWith('curl') ? 'php-curl' : fn.startsWith('simplexml') ? 'php-xml' : 'php-gd';
      return `PHP lacks the extension behind ${fn}(): install it (\`apt-get install ${pkg}\`), then restart the app`;
    }
    return undefined;
  },
};
