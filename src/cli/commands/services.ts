import { spawn } from 'node:child_process';
import { apiSocketFor, callApi } from '../../api/client.js';
import { EnvironmentSchema } from '../../api/routes.js';
import { appEnvironment, isSecret, maskEnvironment, Platform } from '../../engine/index.js';
import { loadManifest } from '../../manifest/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { ownerAlive } from '../../shared/owner.js';
import { homeLayout } from '../../shared/paths.js';
import { readState } from '../read-state.js';

/** Opens the platform with progress lines on stderr (stdout stays for the answer). */
async function open(): Promise<Platform> {
  const platform = await Platform.open();
  platform.on('log.line', (event) => {
    if (event.source === 'services') process.stderr.write(`paasmaker | ${event.line}\n`);
  });
  return platform;
}

async function withPlatform<T>(fn: (platform: Platform) => Promise<T>): Promise<T> {
  const platform = await open();
  try {
    return await fn(platform);
  } finally {
    await platform.close();
  }
}

/**
 * The API socket of the platform that runs this app (the daemon, or a
 * foreground up), or undefined when none does.
 */
function platformRunning(app: string): string | undefined {
  const record = readState((state) => state.apps.get(app));
  if (!record || record.state === 'stopped' || !ownerAlive(record.ownerPid, record.ownerStart)) return undefined;
  return apiSocketFor(homeLayout().root, record.ownerPid!);
}

/**
 * `paasmaker env [DIR]`: the app's environment. From the platform that runs
 * the app when one does (over its Unix socket, the only way to see secrets);
 * otherwise this command provisions what is missing itself.
 */
export async function env(dir: string, options: { json?: boolean; showSecrets?: boolean }): Promise<number> {
  const manifest = loadManifest(dir);
  const app = manifest.application.name;
  const socket = platformRunning(app);
  // --json has always printed the values themselves, for scripts.
  const reveal = Boolean(options.showSecrets || options.json);
  const vars = EnvironmentSchema.parse(
    socket
      ? await callApi(socket, 'GET', `/api/v1/apps/${encodeURIComponent(app)}/env${reveal ? '?show_secrets=true' : ''}`)
      : await withPlatform(async (platform) => appEnvironment(manifest, await platform.provisionServices(manifest))),
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

/** `paasmaker run [DIR] -- CMD…`: a command with the app's environment (migrations, seeds, a REPL). */
export async function run(dir: string, argv: string[], options: { instance?: string }): Promise<number> {
  if (argv.length === 0) {
    throw new PaasmakerError('USAGE', 'nothing to run', {
      hint: "paasmaker run [DIR] -- COMMAND [ARGS…], e.g. paasmaker run -- psql '$DATABASE_URL' (single quotes: your shell leaves the variable for the app's environment)",
    });
  }
  const manifest = loadManifest(dir);
  return withPlatform(async (platform) => {
    const environment = await platform.commandEnvironment(manifest, options.instance);
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

/** `paasmaker db shell [SERVICE]`: psql, mariadb, redis-cli or sqlite3 with the service's credentials. */
export async function dbShell(serviceName: string | undefined, options: { dir: string }): Promise<number> {
  const manifest = loadManifest(options.dir);
  if (manifest.services.length === 0) throw new PaasmakerError('SERVICE_NOT_FOUND', `${manifest.file} declares no services`, { hint: 'add one: services: {db: {plugin: postgres}}' });
  const service = serviceName ? manifest.services.find((candidate) => candidate.name === serviceName) : manifest.services[0];
  if (!service) throw new PaasmakerError('SERVICE_NOT_FOUND', `no service "${serviceName}" in ${manifest.file}`, { hint: `services: ${manifest.services.map((candidate) => candidate.name).join(', ')}` });
  return withPlatform(async (platform) => {
    const provisioned = (await platform.services.provision({ ...manifest, services: [service] }))[0]!;
    const plugin = platform.services.plugin(provisioned.plugin);
    if (!plugin.shell) throw new PaasmakerError('USAGE', `a ${provisioned.plugin} service has no shell`, { hint: `its folder: ${provisioned.credentials.path ?? '(none)'}` });
    const shell = plugin.shell(provisioned.credentials);
    return new Promise<number>((resolve) => {
      const child = spawn(shell.command, shell.args, { stdio: 'inherit', env: { ...process.env, ...shell.env } });
      process.on('SIGINT', () => {}); // Ctrl-C belongs to the shell
      child.on('exit', (code) => resolve(code ?? 1));
    });
  });
}
