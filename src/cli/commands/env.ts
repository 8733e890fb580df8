import { callApi } from '../../api/client.js';
import type { ProcessRow } from '../../api/index.js';
import type { ResolvedManifest } from '../../manifest/index.js';
import { defineCommand } from '../command.js';
import { platformFor, withProjectEnvironment } from '../project-environment.js';

type Options = { json?: boolean; showSecrets?: boolean };

export default defineCommand<Options>({
  name: 'env',
  description: "provision the app's services and print its environment (secrets masked unless --show-secrets)",
  arguments: [{ name: '[dir]', description: 'project folder', default: '.', completes: 'dir' }],
  options: [
    { flags: '--json', description: 'print a JSON object (secrets masked unless --show-secrets)' },
    { flags: '--show-secrets', description: 'print passwords instead of ********' },
  ],
  examples: ['paasmaker env                 secrets masked', 'paasmaker env --show-secrets', 'paasmaker env --json --show-secrets   for scripts', "eval \"$(paasmaker env --show-secrets | sed 's/^/export /')\""],
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
  const found = where?.runsApp
    ? await callApi<Record<string, string>>(where.socket, 'GET', `/api/v1/apps/${encodeURIComponent(app)}/env${options.showSecrets ? '?show_secrets=true' : ''}`)
    : await withProjectEnvironment(manifest, where, {}, async (answer) => answer.environment);
  const vars = { ...found, ...(await givenPort(manifest, found, where?.runsApp ? where.socket : undefined)) };
  const { isSecret, maskEnvironment } = await import('../../engine/index.js');
  const shown = options.showSecrets ? vars : maskEnvironment(vars);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    return 0;
  }
  const lines = Object.keys(shown)
    .sort()
    .map((key) => {
      const value = shown[key]!;
      return `${key}=${/^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`}`;
    });
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!options.showSecrets && Object.entries(vars).some(([key, value]) => isSecret(key, value))) {
    process.stderr.write('(secrets masked: --show-secrets prints them)\n');
  }
  return 0;
}

const PORT_AT_START = '<given at start, one per process>';

/**
 * The PORT and HOST the routed instance type's processes get, in place of a
 * .env's (which they never see): loopback, and their ports when the app runs
 * (`web.0:35689 web.1:35690` for several), else a placeholder. Nothing for a
 * standalone instance type: it gets no port, so the .env's PORT is what it sees.
 */
async function givenPort(manifest: ResolvedManifest, found: Record<string, string>, socket: string | undefined): Promise<Record<string, string>> {
  const instance = manifest.instances.find((candidate) => candidate.name === 'web') ?? manifest.instances[0];
  if (!instance || instance.standalone) return {};
  const rows = socket ? await callApi<ProcessRow[]>(socket, 'GET', `/api/v1/processes?app=${encodeURIComponent(manifest.application.name)}&running=true`, undefined, 5000) : [];
  const ports = rows.filter((row) => row.instance === instance.name && row.port !== null);
  const port = ports.length === 0 ? PORT_AT_START : ports.length === 1 ? String(ports[0]!.port) : ports.map((row) => `${row.instance}.${row.index}:${row.port}`).join(' ');
  const { LISTEN_HOST } = await import('../../engine/index.js');
  return { PORT: port, ...('PM_PORT' in found ? { PM_PORT: port } : {}), HOST: LISTEN_HOST };
}
