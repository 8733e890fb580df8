import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { PaasmakerError } from '../../shared/errors.js';
import { defineCommand } from '../command.js';
import { platformFor, withProjectEnvironment } from '../project-environment.js';

export default defineCommand<{ instance?: string }>({
  name: 'run',
  description: "run a command with the app's environment: migrations, seeds, a REPL",
  arguments: [
    { name: '[dir]', description: 'project folder (before --)', default: '.', completes: 'dir' },
    { name: '[command...]', description: 'the command, after --' },
  ],
  options: [{ flags: '-i, --instance <name>', description: 'take the environment and runtime of this instance type (default: web, else the first)' }],
  usage: '[DIR] [--instance NAME] -- COMMAND [ARGS...]',
  passThroughOptions: true,
  examples: ["paasmaker run -- psql '$DATABASE_URL'", 'paasmaker run ../shop -- node migrate.js', 'paasmaker run -i worker -- python manage.py shell'],
  run: ({ args, options, argv }) => {
    const [dir, command] = args as [string, string[]];
    // Commander cannot tell DIR from the command's first word: `--` and the folder decide.
    // paasmaker run -- psql …  |  paasmaker run DIR -- psql …  |  paasmaker run DIR psql …  |  paasmaker run psql …
    const isFolder = (path: string | undefined) => path !== undefined && existsSync(path) && statSync(path).isDirectory();
    const dashes = argv.indexOf('--');
    if (dashes !== -1) return run(argv.slice(2, dashes).includes(dir) ? dir : '.', argv.slice(dashes + 1), options); // after node and the script
    const words = [dir, ...command];
    return isFolder(words[0]) ? run(words[0]!, words.slice(1), options) : run('.', words, options);
  },
});

/**
 * `paasmaker run [DIR] -- CMD…`: a command with the app's environment
 * (migrations, seeds, a REPL), run here as this command's child. The
 * environment comes from the running platform; only when none runs does this
 * command open a platform of its own.
 */
async function run(dir: string, argv: string[], options: { instance?: string }): Promise<number> {
  if (argv.length === 0) {
    throw new PaasmakerError('USAGE', 'nothing to run', {
      hint: "paasmaker run [DIR] -- COMMAND [ARGS…], e.g. paasmaker run -- psql '$DATABASE_URL' (single quotes: your shell leaves the variable for the app's environment)",
    });
  }
  const manifest = (await import('../../manifest/index.js')).loadManifest(dir);
  return withProjectEnvironment(manifest, await platformFor(manifest.application.name), { instance: options.instance, command: true }, (answer) => {
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...process.env, ...answer.command })) if (value !== undefined) environment[key] = value;
    // A port belongs to an instance the platform starts, never to a one-off command.
    delete environment.PORT;
    delete environment.PM_PORT;
    // Arguments such as "$DATABASE_URL" are expanded with the app's environment, as a shell would.
    const expanded = argv.map((arg) => arg.replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g, (whole, name: string) => environment[name] ?? whole));
    return new Promise<number>((resolve) => {
      const child = spawn(expanded[0]!, expanded.slice(1), { cwd: manifest.directory, env: environment, stdio: 'inherit' });
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      child.on('error', (error) => {
        process.stderr.write(`paasmaker | could not run ${expanded[0]}: ${error.message}\n`);
        resolve(127);
      });
      child.on('exit', (code, signal) => {
        process.off('SIGINT', forward);
        process.off('SIGTERM', forward);
        resolve(code ?? (signal ? 128 + 15 : 1));
      });
    });
  });
}
