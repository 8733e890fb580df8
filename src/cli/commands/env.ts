import { callApi } from '../../api/client.js';
import { EnvironmentSchema } from '../../api/routes.js';
import { isSecret, maskEnvironment } from '../../engine/index.js';
import { loadManifest } from '../../manifest/index.js';
import { platformFor, withProjectEnvironment } from '../project-environment.js';

/**
 * `paasmaker env [DIR]`: the app's environment. From the platform that runs
 * the app when one does (over its Unix socket, the only way to see secrets);
 * else a running platform provisions what is missing; only when none runs
 * does this command open a platform of its own.
 */
export async function env(dir: string, options: { json?: boolean; showSecrets?: boolean }): Promise<number> {
  const manifest = loadManifest(dir);
  const app = manifest.application.name;
  const where = await platformFor(app);
  // --json has always printed the values themselves, for scripts.
  const reveal = Boolean(options.showSecrets || options.json);
  const vars = EnvironmentSchema.parse(
    where?.runsApp
      ? await callApi(where.socket, 'GET', `/api/v1/apps/${encodeURIComponent(app)}/env${reveal ? '?show_secrets=true' : ''}`)
      : await withProjectEnvironment(manifest, where, {}, async (answer) => answer.environment),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(vars, null, 2)}\n`);
    return 0;
  }
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
