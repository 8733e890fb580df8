import { spawn } from 'node:child_process';
import { defineCommand } from '../command.js';
import { platformFor, withProjectEnvironment } from '../project-environment.js';

export default defineCommand<{ dir: string }>({
  name: 'db shell',
  description: "open psql, mariadb, redis-cli or sqlite3 on one of the app's services",
  arguments: [{ name: '[service]', description: 'service name (default: the first)' }],
  options: [{ flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' }],
  examples: ['paasmaker db shell          the first service of the project here', 'paasmaker db shell cache -C ../shop'],
  run: ({ args, options }) => dbShell(args[0] as string | undefined, options),
});

/**
 * `paasmaker db shell [SERVICE]`: psql, mariadb, redis-cli or sqlite3 with the
 * service's credentials, run here. The running platform provisions the
 * service and answers its shell; only when none runs does this command open
 * a platform of its own.
 */
async function dbShell(serviceName: string | undefined, options: { dir: string }): Promise<number> {
  const manifest = (await import('../../manifest/index.js')).loadManifest(options.dir);
  return withProjectEnvironment(manifest, await platformFor(manifest.application.name), { service: serviceName ?? '' }, ({ shell }) => {
    return new Promise<number>((resolve) => {
      const child = spawn(shell!.command, shell!.args, { stdio: 'inherit', env: { ...process.env, ...shell!.env } });
      process.on('SIGINT', () => {}); // Ctrl-C belongs to the shell
      child.on('error', (error) => {
        process.stderr.write(`paasmaker | could not run ${shell!.command}: ${error.message}\n`);
        resolve(127);
      });
      child.on('exit', (code) => resolve(code ?? 1));
    });
  });
}
