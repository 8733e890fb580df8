import { mkdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getRuntime } from '../../runtimes/index.js';
import type { PaasmakerError } from '../../src/shared/errors.js';
import { context, fakeBinary, sandbox, writeFile } from './context.js';

const php = getRuntime('php');

describe('php runtime', () => {
  let box: ReturnType<typeof sandbox>;
  let bin: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    box = sandbox();
    bin = join(box.root, 'bin');
    env = { PATH: bin, HOME: box.home };
  });
  afterEach(() => box.cleanup());

  const plan = (options: { version?: string; command?: string; options?: Record<string, unknown>; prepare?: string[] } = {}) => {
    const ctx = context({ project: box.project, pmHome: box.pmHome, env, runtime: 'php', version: options.version, command: options.command, options: options.options });
    if (options.prepare) ctx.instance.prepare.commands = options.prepare;
    return php.plan(ctx);
  };
  const failure = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('expected an error'), (error: unknown) => error as PaasmakerError);

  it('without a command: the PATH php serves public/ with the built-in server on $PORT', async () => {
    const system = fakeBinary(join(bin, 'php'), 'PHP 8.2.36 (cli) (built: Nov 18 2026)');
    mkdirSync(join(box.project, 'public'));
    expect(await plan()).toEqual({
      description: `php 8.2.36 (${system})`,
      pathPrepend: [],
      env: {},
      prepare: [],
      fingerprintFiles: [],
      command: `${system} -S 127.0.0.1:$PORT -t ${join(box.project, 'public')}`,
    });
  });

  it('serves the project folder when there is no public/, and a router script and workers when asked', async () => {
    const system = fakeBinary(join(bin, 'php'), 'PHP 8.2.36 (cli)');
    expect((await plan()).command).toBe(`${system} -S 127.0.0.1:$PORT -t ${box.project}`);
    writeFile(join(box.project, 'web', 'front.php'), '<?php');
    const result = await plan({ options: { document_root: 'web', router: 'web/front.php', workers: 4 } });
    expect(result.command).toBe(`${system} -S 127.0.0.1:$PORT -t ${join(box.project, 'web')} ${join(box.project, 'web', 'front.php')}`);
    expect(result.env).toEqual({ PHP_CLI_SERVER_WORKERS: '4' });
  });

  it('a document_root or router that is not there is an error naming the file and the option', async () => {
    fakeBinary(join(bin, 'php'), 'PHP 8.2.36 (cli)');
    const noRoot = await failure(plan({ options: { document_root: 'htdocs' } }));
    expect(noRoot.code).toBe('RUNTIME_MISSING');
    expect(noRoot.message).toContain(join(box.project, 'htdocs'));
    expect(noRoot.message).toContain('paasmaker.yml:4:5');
    expect(noRoot.hint).toContain('document_root');
    const noRouter = await failure(plan({ options: { router: 'index.php' } }));
    expect(noRouter.message).toContain(join(box.project, 'index.php'));
  });

  it('a document_root or router outside the project is refused: the router would serve the rest of the disk', async () => {
    fakeBinary(join(bin, 'php'), 'PHP 8.2.36 (cli)');
    for (const options of [{ document_root: '/' }, { document_root: '..' }, { router: '../outside.php' }]) {
      const refused = await failure(plan({ options }));
      expect(refused.code).toBe('MANIFEST_INVALID');
      expect(refused.message).toMatch(/is outside the project/);
    }
  });

  it('a command given replaces the built-in server', async () => {
    fakeBinary(join(bin, 'php'), 'PHP 8.2.36 (cli)');
    expect((await plan({ command: 'php artisan serve --port=$PORT' })).command).toBe('php artisan serve --port=$PORT');
  });

  it('chooses among php8.X binaries, and puts the chosen one first on PATH as `php`', async () => {
    fakeBinary(join(bin, 'php'), 'PHP 8.2.36 (cli)');
    const php83 = fakeBinary(join(bin, 'php8.3'), 'PHP 8.3.4 (cli)');
    const result = await plan({ version: '8.3' });
    expect(result.description).toBe(`php 8.3.4 (${php83})`);
    expect(result.command).toMatch(new RegExp(`^${php83} -S `));
    expect(result.pathPrepend).toHaveLength(1);
    expect(result.pathPrepend[0]!.startsWith(box.pmHome)).toBe(true);
    expect(readlinkSync(join(result.pathPrepend[0]!, 'php'))).toBe(php83);
    // Asked again (another up), the same folder serves.
    expect((await plan({ version: '8.3' })).pathPrepend).toEqual(result.pathPrepend);
  });

  it('composer.json require.php picks the version when the manifest names none', async () => {
    fakeBinary(join(bin, 'php'), 'PHP 8.2.36 (cli)');
    fakeBinary(join(bin, 'composer'), 'Composer version 2.5.5');
    const php83 = fakeBinary(join(bin, 'php8.3'), 'PHP 8.3.4 (cli)');
    writeFile(join(box.project, 'composer.json'), JSON.stringify({ require: { php: '^8.3' } }));
    expect((await plan()).description).toBe(`php 8.3.4 (${php83})`);
  });

  it('a version nobody has: RUNTIME_VERSION listing what was found, with the package to install', async () => {
    fakeBinary(join(bin, 'php'), 'PHP 8.2.36 (cli)');
    const error = await failure(plan({ version: '5.6' }));
    expect(error.code).toBe('RUNTIME_VERSION');
    expect(error.message).toContain('needs php 5.6 (paasmaker.yml:4:5)');
    expect(error.message).toContain('8.2.36');
    expect(error.hint).toMatch(process.platform === 'darwin' ? /brew install php@5\.6/ : /apt-get install php5\.6-cli/);
  });

  it('no php at all: RUNTIME_MISSING naming the package', async () => {
    const error = await failure(plan());
    expect(error.code).toBe('RUNTIME_MISSING');
    expect(error.hint).toMatch(process.platform === 'darwin' ? /brew install php/ : /apt-get install php-cli/);
  });

  it('composer.json: composer install prepares, unless the manifest says how; composer missing is named', async () => {
    fakeBinary(join(bin, 'php'), 'PHP 8.2.36 (cli)');
    const manifest = writeFile(join(box.project, 'composer.json'), '{}');
    const missing = await failure(plan());
    expect(missing.code).toBe('RUNTIME_MISSING');
    expect(missing.message).toContain('composer');
    expect(missing.hint).toContain('composer');
    fakeBinary(join(bin, 'composer'), 'Composer version 2.5.5');
    const lock = writeFile(join(box.project, 'composer.lock'), '{}');
    const result = await plan();
    expect(result.prepare).toEqual(['composer install --no-interaction --prefer-dist --no-progress']);
    expect(result.fingerprintFiles).toEqual([manifest, lock]);
    expect(result.preparedMarkers).toEqual([join(box.project, 'vendor', 'autoload.php')]);
    expect((await plan({ prepare: ['make deps'] })).prepare).toEqual([]);
  });

  it('crash hints: a missing PDO driver names its package; a class not found without vendor/ says composer install', () => {
    expect(php.crashHint!(['PHP Fatal error:  Uncaught PDOException: could not find driver in /app/index.php:12', 'new PDO("sqlite:/x")'], box.project)).toContain('apt-get install php-sqlite3');
    expect(php.crashHint!(['PHP Fatal error:  Uncaught Error: Call to undefined function mysqli_connect()'], box.project)).toContain('php-mysql');
    writeFile(join(box.project, 'composer.json'), '{}');
    expect(php.crashHint!(['PHP Fatal error:  Uncaught Error: Class "Monolog\\Logger" not found'], box.project)).toContain('composer install');
    expect(php.crashHint!(['PHP Warning: something else'], box.project)).toBeUndefined();
  });
});
