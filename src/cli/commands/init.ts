import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PaasmakerError } from '../../shared/errors.js';
import { defineCommand } from '../command.js';

type Options = { force?: boolean; name?: string };

export default defineCommand<Options>({
  name: 'init',
  description: 'write a commented paasmaker.yml for the project in a folder (runtime and command guessed from its files)',
  arguments: [{ name: '[dir]', description: 'project folder', default: '.', completes: 'dir' }],
  options: [
    { flags: '--name <name>', description: "the app's name (default: the folder's)" },
    { flags: '--force', description: 'overwrite an existing manifest' },
  ],
  examples: ['paasmaker init              guess from package.json, requirements.txt, composer.json or Gemfile', 'paasmaker init ../shop --name shop', 'paasmaker init --force      write it again'],
  run: ({ args, options }) => init(args[0] as string, options),
});

/** `paasmaker init [DIR]`: a starting manifest, never over one that exists unless --force. */
async function init(dir: string, options: Options): Promise<number> {
  const directory = resolve(dir);
  if (!existsSync(directory) || !statSync(directory).isDirectory()) throw new PaasmakerError('USAGE', `${directory} is not a folder`, { hint: 'paasmaker init [DIR]' });
  const { APP_NAME, CANDIDATES, appNameFromFolder, loadManifest } = await import('../../manifest/index.js');
  const existing = CANDIDATES.find((name) => existsSync(join(directory, name)));
  if (existing && !options.force) {
    throw new PaasmakerError('CONFIRMATION_NEEDED', `${join(directory, existing)} exists: this project has a manifest already`, {
      hint: `paasmaker up runs it; paasmaker init --force writes paasmaker.yml anyway${existing === 'paasmaker.yml' ? ' (over it)' : ` (which then wins over ${existing})`}`,
    });
  }
  const { guessStarter, starterManifest } = await import('../starter-manifest.js');
  const guess = guessStarter(directory);
  if (!guess) {
    throw new PaasmakerError('RUNTIME_UNKNOWN', `found nothing in ${directory} to guess the runtime from`, {
      hint: 'init looks for package.json, requirements.txt, composer.json, Gemfile or index.html; or write paasmaker.yml yourself:\n  application:\n    name: my-app\n  instances:\n    web:\n      command: ./start --port $PORT',
    });
  }
  const name = options.name ?? appNameFromFolder(directory);
  if (!APP_NAME.test(name)) throw new PaasmakerError('USAGE', `--name must be 1–40 characters of a-z, 0-9 and "-" (got "${name}")`, { hint: 'for example: paasmaker init --name my-shop' });
  const file = join(directory, 'paasmaker.yml');
  writeFileSync(file, starterManifest(name, guess));
  // What was written reads back as a manifest.
  const manifest = loadManifest(directory);
  const web = manifest.instances[0]!;
  process.stdout.write(`wrote ${file}: ${manifest.application.name}, ${web.runtime.name}${web.command ? ` (${web.command})` : ''}, guessed from ${guess.from}\nnext: read it, then paasmaker up${dir === '.' ? '' : ` ${dir}`}\n`);
  return 0;
}
