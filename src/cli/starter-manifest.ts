import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What `paasmaker init` found in a folder, and the instance it writes for it. */
export interface StarterGuess {
  /** What it was guessed from, for the line init prints: "package.json (scripts.start)". */
  from: string;
  runtime: 'node' | 'python' | 'php' | 'ruby' | 'shell' | 'static';
  /** The launch command (none for a static folder). */
  command?: string;
  /** For runtime: node, engines.node. */
  version?: string;
  /** The runtime's own options (php's document_root). */
  options?: Record<string, string>;
  /** Prepare commands the runtime does not run by itself (composer, bundler). */
  prepare?: string;
  /** The folder a static site serves. */
  root?: string;
  /** A comment line above the instance: what to check. */
  note: string;
}

const has = (dir: string, ...names: string[]) => names.find((name) => existsSync(join(dir, name)));

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function guessNode(dir: string): StarterGuess {
  const pkg = readJson(join(dir, 'package.json')) ?? {};
  const scripts = (pkg.scripts ?? {}) as Record<string, unknown>;
  const engines = (pkg.engines ?? {}) as Record<string, unknown>;
  const version = typeof engines.node === 'string' ? engines.node : undefined;
  const note = 'dependencies are installed from the lockfile before the first start; the app must listen on $PORT';
  if (typeof scripts.start === 'string') return { from: 'package.json (scripts.start)', runtime: 'node', command: 'npm start', version, note: `npm start runs: ${scripts.start}; ${note}` };
  const main = typeof pkg.main === 'string' && existsSync(join(dir, pkg.main)) ? pkg.main : has(dir, 'server.js', 'app.js', 'index.js', 'main.js', 'server.mjs', 'index.mjs');
  return { from: main ? `package.json (${main})` : 'package.json', runtime: 'node', command: `node ${main ?? 'server.js'}`, version, note: main ? note : `no start script or main file found: set the command that starts the app; ${note}` };
}

function guessPython(dir: string): StarterGuess {
  const requirements = readFileSync(join(dir, 'requirements.txt'), 'utf8').toLowerCase();
  const note = 'requirements.txt is installed into a virtualenv before the first start; the app must listen on $PORT';
  if (has(dir, 'manage.py')) return { from: 'requirements.txt (manage.py: Django)', runtime: 'python', command: 'python3 manage.py runserver 127.0.0.1:$PORT', note };
  const main = has(dir, 'app.py', 'main.py', 'server.py', 'wsgi.py');
  if (main && /^gunicorn\b/m.test(requirements)) return { from: `requirements.txt (gunicorn, ${main})`, runtime: 'python', command: `gunicorn ${main.slice(0, -3)}:app --bind 127.0.0.1:$PORT`, note };
  return { from: main ? `requirements.txt (${main})` : 'requirements.txt', runtime: 'python', command: `python3 ${main ?? 'app.py'}`, note: main ? note : `no app.py or main.py found: set the command that starts the app; ${note}` };
}

function guessPhp(dir: string): StarterGuess {
  // The php runtime serves public/ itself (or the project folder) with PHP's built-in server.
  const root = has(dir, 'public') ? undefined : has(dir, 'web');
  return {
    from: 'composer.json',
    runtime: 'php',
    ...(root ? { options: { document_root: root } } : {}),
    note: `PHP's built-in server serves ${root ?? (has(dir, 'public') ? 'public' : 'the project folder')} on $PORT, for development; composer install runs before the first start`,
  };
}

function guessRuby(dir: string): StarterGuess {
  const note = 'bundle install (into PAASMAKER_HOME) runs before the first start; the app must listen on $PORT';
  if (has(dir, 'bin/rails')) return { from: 'Gemfile (bin/rails)', runtime: 'ruby', command: 'bin/rails server -b 127.0.0.1 -p $PORT', note };
  return { from: has(dir, 'config.ru') ? 'Gemfile (config.ru)' : 'Gemfile', runtime: 'ruby', command: 'bundle exec rackup -o 127.0.0.1 -p $PORT', note };
}

/** The runtime and command a folder's files suggest, as Heroku's buildpacks detect them; undefined when nothing does. */
export function guessStarter(dir: string): StarterGuess | undefined {
  if (has(dir, 'package.json')) return guessNode(dir);
  if (has(dir, 'requirements.txt')) return guessPython(dir);
  if (has(dir, 'composer.json')) return guessPhp(dir);
  if (has(dir, 'Gemfile')) return guessRuby(dir);
  const root = has(dir, 'public/index.html', 'index.html');
  if (root) return { from: root, runtime: 'static', root: root === 'index.html' ? '.' : 'public', note: 'Paasmaker serves the folder itself: no process to run' };
  return undefined;
}

const WORKERS: Record<string, string> = { node: 'node worker.js', python: 'python3 worker.py', php: 'php worker.php', ruby: 'bundle exec ruby worker.rb' };

/** A YAML scalar: plain when it reads back the same, else double-quoted. */
const quoted = (value: string) => (/^[\w./$][^#'"]*$/.test(value) && !/:\s|\s$/.test(value) ? value : JSON.stringify(value));

/** A commented paasmaker.yml for the guess: what each line does, and what to add next. */
export function starterManifest(app: string, guess: StarterGuess): string {
  const extra = [...(guess.version ? [`version: ${JSON.stringify(guess.version)}`] : []), ...Object.entries(guess.options ?? {}).map(([key, value]) => `${key}: ${quoted(value)}`)];
  const runtime = extra.length > 0 ? `{name: ${guess.runtime}, ${extra.join(', ')}}` : guess.runtime;
  const lines = [
    `# paasmaker.yml, written by paasmaker init from ${guess.from}.`,
    '# Run it with: paasmaker up   (then open https://<name>.localhost:7655/ or http://<name>.localhost:7654/)',
    'application:',
    '  # The name in URLs (https://NAME.localhost:7655/) and in paasmaker ps: a-z, 0-9 and "-".',
    `  name: ${app}`,
    'instances:',
    '  # web is routed: it gets a port in $PORT and the router sends the app\'s requests to it.',
    '  web:',
    `    # ${guess.note}`,
    `    runtime: ${runtime}`,
    ...(guess.command ? [`    command: ${quoted(guess.command)}`] : []),
    ...(guess.root ? [`    root: ${guess.root}`] : []),
    ...(guess.prepare ? ['    # Runs before the first start, and again when a file it depends on changes.', `    prepare: ${quoted(guess.prepare)}`] : []),
    ...(guess.runtime === 'static'
      ? []
      : [
          '    # Ready once $PORT accepts a connection (with a path: once GET path answers); a slow start needs a longer timeout (10 s by default).',
          '    # health: {path: /healthz, timeout: 30}',
          '    # environment:',
          '    #   GREETING: hello',
          '    # quantity: 2          # processes of this type, behind the router',
          '  # A process without a port, e.g. a queue worker:',
          '  # worker:',
          '  #   standalone: true',
          `  #   command: ${WORKERS[guess.runtime] ?? './worker'}`,
          '# Databases, provisioned on the first up; their credentials arrive as environment variables (DATABASE_URL, …).',
          '# services:',
          '#   db:',
          '#     plugin: postgres    # or sqlite, mariadb, redis',
        ]),
    '',
  ];
  return lines.join('\n');
}
