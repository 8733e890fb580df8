import { spawn } from 'node:child_process';
import { loadManifest } from '../../manifest/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { platformFor, withProjectEnvironment } from '../project-environment.js';

/**
 * `paasmaker run [DIR] -- CMD…`: a command with the app's environment
 * (migrations, seeds, a REPL), run here as this command's child. The
 * environment comes from the running platform; only when none runs does this
 * command open a platform of its own.
 */
export async function run(dir: string, argv: string[], options: { instance?: string }): Promise<number> {
  if (argv.length === 0) {
    throw new PaasmakerError('USAGE', 'nothing to run', {
      hint: "paasmaker run [DIR] -- COMMAND [ARGS…], e.g. paasmaker run -- psql '$DATABASE_URL' (single quotes: your shell leaves the variable for the app's environment)",
    });
  }
  const manifest = loadManifest(dir);
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
