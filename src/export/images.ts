import { existsSync, statSync } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';
import semver from 'semver';
import { dependencyInstall } from '../../runtimes/node/dependencies.js';
import { wantedNode } from '../../runtimes/node/index.js';
import { phpOptions, wantedPhp } from '../../runtimes/php/index.js';
import { hasRequirements, wantedPython } from '../../runtimes/python/index.js';
import { wantedRuby } from '../../runtimes/ruby/index.js';
import type { RuntimeContext } from '../../runtimes/types.js';
import { describePosition } from '../../runtimes/versions.js';
import { PaasmakerError } from '../shared/errors.js';
import type { ResolvedInstance, ResolvedManifest } from '../shared/manifest.js';
import { shellQuote } from '../shared/shell.js';

/**
 * The image each instance type runs in on a cluster: the one the user gave
 * (`--image web=registry/shop-web:1.2`), else one to build from a Dockerfile
 * the export writes (its name from `--registry` and the app's), with the
 * commands that build and push it. The export never builds nor pushes.
 */
export interface ImagePlan {
  instance: string;
  image: string;
  /** A Dockerfile to write beside the objects (undefined: the user's image). */
  dockerfile?: { path: string; text: string };
  /**
   * The commands to run, in order, to build and push the image; empty for a
   * given image, and for an instance type whose Dockerfile (and so image) an
   * earlier plan shares: build it once.
   */
  build: string[];
}

export interface ImageOptions {
  /** --image INSTANCE=IMAGE, repeated. */
  images: Record<string, string>;
  /** --registry PREFIX (e.g. ghcr.io/acme); absent: a local name. */
  registry?: string;
  /** The folder the Dockerfiles are written to, as the build lines name it (relative to where they are run); default ".". */
  directory?: string;
  /** The build context (the project folder), as the build lines name it; default ".". */
  context?: string;
}

/** The port every image's process listens on ($PORT): the one the objects and compose services map. */
export const IMAGE_PORT = 8080;

/** The address every image's process listens on ($HOST): all of the container's, where locally the platform gives loopback. */
export const CONTAINER_HOST = '0.0.0.0';

/**
 * Whether a command visibly listens on loopback (`--host 127.0.0.1`,
 * `-b localhost`, `localhost:3000`, `[::1]`): in a container nothing outside
 * it reaches such a process. `${HOST:-127.0.0.1}` is not counted: $HOST wins.
 */
export function bindsLoopback(command: string): boolean {
  return /(^|[\s'"=@/:])(127(\.\d{1,3}){3}|localhost|\[::1\])(?![\w.-])/.test(command) || /(^|[\s'"=])::1(?![\w:])/.test(command);
}

/** What the user is told about an instance type whose command listens on loopback. */
export function loopbackWarning(instance: string, command: string): string {
  return `instances.${instance} listens on loopback in its command (${command}): in a container nothing outside reaches it; listen on $HOST (the export sets HOST=${CONTAINER_HOST}) or on ${CONTAINER_HOST}`;
}

/** The first line of every file the export writes: a file without it is the user's, never overwritten. */
export const EXPORT_MARK = '# Written by paasmaker export';

/**
 * What a build context should leave out, written beside each Dockerfile
 * (BuildKit reads <Dockerfile>.dockerignore): the repository, the .env the
 * platform passes as variables, what prepare installs, and an export's
 * compose.yaml (it holds passwords) when it is written into the project.
 */
export const DOCKERIGNORE = [EXPORT_MARK, '.git', '.env', 'node_modules', 'compose.yaml', ''].join('\n');

/** Base images when the project asks for no version (or any): current long-term releases. */
const DEFAULT_VERSIONS: Record<string, string> = { node: '22', python: '3.12', php: '8.3', ruby: '3.3' };

/** The image reference an instance type is given when the user names none: <registry>/<app>-<instance>:latest. */
export function imageName(app: string, instance: string, registry?: string): string {
  const name = `${app}-${instance}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  return `${registry ? `${registry.replace(/\/+$/, '')}/` : ''}${name}:latest`;
}

/**
 * One plan per instance type, in the manifest's order. Instance types built
 * the same way (the same Dockerfile text) share one Dockerfile and one image:
 * `Dockerfile` when the app needs one only, else `Dockerfile.<instance>`
 * named after the first instance type that uses it.
 */
export function imagePlans(manifest: ResolvedManifest, options: ImageOptions): ImagePlan[] {
  const texts = new Map<string, string>();
  for (const instance of manifest.instances) {
    if (options.images[instance.name]) continue;
    const text = dockerfileFor(manifest, instance).text;
    if (!texts.has(text)) texts.set(text, instance.name);
  }
  const directory = options.directory ?? '.';
  const context = options.context ?? '.';
  const built = new Set<string>();
  return manifest.instances.map((instance) => {
    const given = options.images[instance.name];
    if (given) return { instance: instance.name, image: given, build: [] };
    const text = dockerfileFor(manifest, instance).text;
    const owner = texts.get(text)!;
    const path = texts.size === 1 ? 'Dockerfile' : `Dockerfile.${owner}`;
    const image = imageName(manifest.application.name, owner, options.registry);
    const first = !built.has(path);
    built.add(path);
    const file = directory === '.' ? path : posix.join(directory, path);
    return {
      instance: instance.name,
      image,
      dockerfile: { path, text },
      build: first ? [`docker build -f ${shellQuote(file)} -t ${shellQuote(image)} ${shellQuote(context)}`, ...(options.registry ? [`docker push ${shellQuote(image)}`] : [])] : [],
    };
  });
}

/**
 * The Dockerfile that builds an instance type's image: the runtime's base
 * image at the version the project asks for, the runtime's own prepare (as
 * `paasmaker up` runs it: npm ci, pip install -r requirements.txt, composer
 * install, bundle install) unless the manifest gives its own, the manifest's
 * prepare, PORT and the command through /bin/sh. The path is the default
 * one; imagePlans names files shared by several instance types.
 */
export function dockerfileFor(manifest: ResolvedManifest, instance: ResolvedInstance): { path: string; text: string } {
  const recipe = recipeFor(manifest, instance);
  const lines = [
    EXPORT_MARK,
    `# ${manifest.application.name}: the ${instance.runtime.name} runtime, prepared as paasmaker up prepares it. Build it from the project folder.`,
    `FROM ${recipe.from}`,
    'WORKDIR /app',
    ...recipe.before,
    'COPY . .',
    ...recipe.prepare.map((command) => `RUN ${command}`),
    ...instance.prepare.commands.map((command) => `RUN ${command.replace(/\n/g, ' \\\n  ')}`),
    ...Object.entries(recipe.env).map(([key, value]) => `ENV ${key}=${JSON.stringify(value)}`),
    `ENV PORT=${IMAGE_PORT}`,
    `ENV HOST=${CONTAINER_HOST}`,
    `EXPOSE ${IMAGE_PORT}`,
    `CMD ["/bin/sh", "-c", ${JSON.stringify(recipe.command)}]`,
    '',
  ];
  return { path: `Dockerfile.${instance.name}`, text: lines.join('\n') };
}

/** The command an instance type's image runs (the manifest's, else the runtime's default: PHP's built-in server, rackup). */
export function launchCommand(manifest: ResolvedManifest, instance: ResolvedInstance): string {
  return recipeFor(manifest, instance).command;
}

/** How an image can check its own process's health from inside, or undefined when it has no tool for it (then none is declared). */
export function healthProbe(instance: ResolvedInstance): string[] | undefined {
  const path = instance.health.path;
  if (instance.runtime.name === 'node') {
    const script = path
      ? `fetch('http://127.0.0.1:'+process.env.PORT+${JSON.stringify(path)}).then(r=>process.exit(r.status<500?0:1),()=>process.exit(1))`
      : `require('net').connect(+process.env.PORT,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`;
    return ['CMD', 'node', '-e', script];
  }
  if (instance.runtime.name === 'python') {
    const script = path
      ? `import os,sys,urllib.request,urllib.error\ntry: urllib.request.urlopen('http://127.0.0.1:'+os.environ['PORT']+${JSON.stringify(path)}, timeout=5)\nexcept urllib.error.HTTPError as e: sys.exit(e.code >= 500)\nexcept Exception: sys.exit(1)`
      : `import os,socket; socket.create_connection(('127.0.0.1', int(os.environ['PORT'])), 5)`;
    return ['CMD', 'python3', '-c', script];
  }
  return undefined;
}

interface Recipe {
  from: string;
  /** Lines before the project is copied (tools from other images, system packages). */
  before: string[];
  /** The runtime's own prepare commands. */
  prepare: string[];
  env: Record<string, string>;
  command: string;
}

function recipeFor(manifest: ResolvedManifest, instance: ResolvedInstance): Recipe {
  const ctx: RuntimeContext = { manifest, instance, home: '', env: {} };
  const own = instance.prepare.commands.length === 0;
  const has = (file: string) => existsSync(join(manifest.directory, file));
  const command = (fallback?: string) => {
    const chosen = instance.command ?? fallback;
    if (chosen === undefined) throw new PaasmakerError('MANIFEST_INVALID', `instances.${instance.name} has no command to put in its image (${describePosition(instance.position)})`, { hint: 'give it a command:, or an image of your own with --image' });
    return chosen;
  };
  switch (instance.runtime.name) {
    case 'node': {
      const install = own ? dependencyInstall(manifest.directory) : undefined;
      const prepare = install ? [install.tool === 'npm' ? install.command : `corepack enable && ${install.command}`] : [];
      return { from: `node:${version('node', wantedNode(ctx).range)}-slim`, before: [], prepare, env: {}, command: command() };
    }
    case 'python': {
      const prepare = own && has('requirements.txt') && hasRequirements(join(manifest.directory, 'requirements.txt')) ? ['pip install --no-cache-dir --disable-pip-version-check -r requirements.txt'] : [];
      return { from: `python:${version('python', wantedPython(ctx).range)}-slim`, before: [], prepare, env: { PYTHONUNBUFFERED: '1' }, command: command() };
    }
    case 'php': {
      const options = phpOptions.safeParse(instance.runtime.options ?? {});
      const php = options.success ? options.data : {};
      const composer = own && has('composer.json');
      const before = composer ? ['COPY --from=composer:2 /usr/bin/composer /usr/bin/composer', 'RUN apt-get update && apt-get install -y --no-install-recommends git unzip && rm -rf /var/lib/apt/lists/*'] : [];
      const drivers = pdoDrivers(manifest);
      if (drivers.length > 0) before.push(`RUN ${drivers.includes('pdo_pgsql') ? 'apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/* && ' : ''}docker-php-ext-install ${drivers.join(' ')}`);
      const env: Record<string, string> = composer ? { COMPOSER_NO_INTERACTION: '1' } : {};
      if (php.workers !== undefined && php.workers > 1) env.PHP_CLI_SERVER_WORKERS = String(php.workers);
      const root = php.document_root ?? (isDirectory(join(manifest.directory, 'public')) ? 'public' : '.');
      const server = `php -S 0.0.0.0:$PORT -t ${shellQuote(inProject(manifest, root))}${php.router ? ` ${shellQuote(inProject(manifest, php.router))}` : ''}`;
      return {
        from: `php:${version('php', wantedPhp(ctx).range)}-cli`,
        before,
        prepare: composer ? ['composer install --no-interaction --prefer-dist --no-progress'] : [],
        env,
        command: command(server),
      };
    }
    case 'ruby': {
      const bundled = has('Gemfile');
      const rackup = has('config.ru') ? `${bundled ? 'bundle exec ' : ''}rackup -p $PORT -o 0.0.0.0` : undefined;
      return {
        from: `ruby:${version('ruby', wantedRuby(ctx).range)}-slim`,
        before: [],
        prepare: own && bundled ? ['bundle install'] : [],
        env: bundled ? { BUNDLE_SILENCE_ROOT_WARNING: '1' } : {},
        command: command(rackup),
      };
    }
    case 'static': {
      const root = inProject(manifest, instance.root ?? manifest.directory);
      // BusyBox's httpd: a tiny server for a folder, index.html included.
      return { from: 'busybox:1.36', before: [], prepare: [], env: {}, command: `exec httpd -f -p "$PORT" -h ${shellQuote(root === '.' ? '/app' : `/app/${root}`)}` };
    }
    default:
      // shell, and runtimes this export knows nothing of: a plain Debian with the command as written.
      return { from: 'debian:bookworm-slim', before: instance.runtime.name === 'shell' ? [] : [`# the ${instance.runtime.name} runtime: install it here (RUN apt-get ...)`], prepare: [], env: {}, command: command() };
  }
}

/** The image tag for a version range: the default release when it fits, else the lowest the range allows (major for node, major.minor for the rest). */
function version(runtime: string, range: string): string {
  const fallback = DEFAULT_VERSIONS[runtime]!;
  if (semver.satisfies(semver.coerce(fallback)!, range)) return fallback;
  const min = semver.minVersion(range);
  if (!min) return fallback;
  return runtime === 'node' ? String(min.major) : `${min.major}.${min.minor}`;
}

/** PHP's PDO drivers the app's SQL services need beyond sqlite (which the image has). */
function pdoDrivers(manifest: ResolvedManifest): string[] {
  const drivers = new Set<string>();
  for (const service of manifest.services) {
    if (/postgres/.test(service.plugin)) drivers.add('pdo_pgsql');
    if (/mysql|maria/.test(service.plugin)) drivers.add('pdo_mysql');
  }
  return [...drivers].sort();
}

/** A path of the project, relative to it with / separators ("." for the project itself); one outside it is refused. */
function inProject(manifest: ResolvedManifest, path: string): string {
  const rel = relative(manifest.directory, resolve(manifest.directory, path));
  if (rel.startsWith('..')) throw new PaasmakerError('MANIFEST_INVALID', `${path} is outside the project ${manifest.directory}`, { hint: 'an image holds the project folder only' });
  return rel === '' ? '.' : rel.split(sep).join('/');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
