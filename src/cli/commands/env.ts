import { callApi } from '../../api/client.js';
import { defineCommand } from '../command.js';
import { platformFor, withProjectEnvironment } from '../project-environment.js';

type Options = { json?: boolean; showSecrets?: boolean };

export default defineCommand<Options>({
  name: 'env',
  description: "provision the app's services and print its environment (credentials included)",
  arguments: [{ name: '[dir]', description: 'project folder', default: '.', completes: 'dir' }],
  options: [
    { flags: '--json', description: 'print a JSON object, secrets included (for scripts)' },
    { flags: '--show-secrets', description: 'print passwords instead of ********' },
  ],
  examples: ['paasmaker env                 secrets masked', 'paasmaker env --show-secrets', "eval \"$(paasmaker env --show-secrets | sed 's/^/export /')\""],
  run: ({ args, options }) => env(args[0] as string, options),
});

/**
 * `paasmaker env [DIR]`: the app's environment. From the platform that runs
 * the app when one does (over its Unix socket, the only way to see secrets);
 * else a running platform provisions what is missing; only when none runs
 * does this command open a platform of its own.
 */
async function env(dir: string, options: Options): Promise<number> {
  const manifest = (await import('../../manifest/index.js')).loadManifest(dir);
  const app = manifest.application.name;
  const where = await platformFor(app);
  // --json has always printed the values themselves, for scripts.
  const reveal = Boolean(options.showSecrets || options.json);
  const vars = where?.runsApp
    ? await callApi<Record<string, string>>(where.socket, 'GET', `/api/v1/apps/${encodeURIComponent(app)}/env${reveal ? '?show_secrets=true' : ''}`)
    : await withProjectEnvironment(manifest, where, {}, async (answer) => answer.environment);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(vars, null, 2)}\n`);
    return 0;
  }
  const { isSecret, maskEnvironment } = await import('../../engine/index.js');
  const shown = options.showSecrets ? vars : maskEnvironment(vars);
  const lines = Object.keys(shown)
    .sort()
    .map((key) => {
      const value = shown[key]!;
      return `${key}=${/^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`}`;
    });
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!options.showSecrets && Object.entries(vars).some(([key, value]) => isSecret(key, value))) {
    process.stderr.write('(secrets masked: --show-secrets prints them, --json too)\n');
  }
  return 0;
}
