import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { apiSocketFor, callApi } from '../../api/client.js';
import { EnvironmentSchema } from '../../api/routes.js';
import { appEnvironment, isSecret, maskEnvironment, Platform } from '../../engine/index.js';
import { loadManifest } from '../../manifest/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { ownerAlive } from '../../shared/owner.js';
import { homeLayout } from '../../shared/paths.js';
import { table } from '../output.js';
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

/** `paasmaker services [--json]`: the managed servers and every provisioned service. */
export async function servicesList(options: { json?: boolean }): Promise<number> {
  const platform = await Platform.open({ keeper: false });
  try {
    const servers = platform.services.servers();
    const services = platform.services.list();
    if (options.json) {
      const rows = [
        ...servers.map((server) => ({ kind: 'server', name: server.plugin, app: null, service: null, branch: null, plugin: server.plugin, state: server.state, port: server.port ?? null, pid: server.pid ?? null, size: server.size ?? null, resource: server.dataDir ?? null })),
        ...services.map((record) => ({ kind: 'service', name: `${record.app}/${record.service}`, app: record.app, service: record.service, branch: record.branch || null, plugin: record.plugin, state: 'provisioned', port: null, pid: null, size: null, resource: record.resource })),
      ];
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    if (servers.length === 0 && services.length === 0) {
      process.stdout.write('No services yet. Declare one in paasmaker.yml (services: {db: {plugin: postgres}}) and run paasmaker up.\n');
      return 0;
    }
    if (servers.length > 0) {
      process.stdout.write(table(['server', 'state', 'port', 'pid', 'size', 'data'], servers.map((server) => [server.version ?? server.plugin, server.state, server.port ? String(server.port) : '-', server.pid ? String(server.pid) : '-', formatSize(server.size ?? 0), server.dataDir ?? '-'])));
    }
    if (services.length > 0) {
      if (servers.length > 0) process.stdout.write('\n');
      process.stdout.write(table(['service', 'branch', 'plugin', 'as', 'resource'], services.map((record) => [`${record.app}/${record.service}`, record.branch || '-', record.plugin, record.symbolic, record.resource])));
    }
    return 0;
  } finally {
    await platform.close();
  }
}

/** `paasmaker services destroy APP/SERVICE[@BRANCH] --yes`: drops a service and its data, never without asking. */
export async function servicesDestroy(target: string, options: { yes?: boolean }): Promise<number> {
  const match = /^([^/@]+)\/([^/@]+)(?:@(.+))?$/.exec(target);
  if (!match) throw new PaasmakerError('USAGE', `"${target}" is not APP/SERVICE`, { hint: 'for example: paasmaker services destroy shop/db --yes (paasmaker services lists them)' });
  const [, app, service, branch = ''] = match;
  return withPlatform(async (platform) => {
    const record = platform.services.list(app).find((candidate) => candidate.service === service && candidate.branch === branch);
    if (!record) {
      throw new PaasmakerError('SERVICE_NOT_FOUND', `no provisioned service ${target}`, { hint: 'paasmaker services lists what exists' });
    }
    const what = `${record.plugin} ${record.resource}`;
    if (!options.yes) {
      if (!process.stdin.isTTY) throw new PaasmakerError('CONFIRMATION_NEEDED', `destroying ${target} (${what}) deletes its data`, { hint: `add --yes to confirm: paasmaker services destroy ${target} --yes` });
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await prompt.question(`Delete ${target} (${what}) and all its data? Type the service name (${service}) to confirm: `);
      prompt.close();
      if (answer.trim() !== service) {
        process.stderr.write('Nothing was deleted.\n');
        return 1;
      }
    }
    await platform.jobs.run(record.app, `destroy ${record.service}${record.branch ? `@${record.branch}` : ''}`, () => platform.services.destroy(record));
    process.stdout.write(`destroyed ${target} (${what})\n`);
    return 0;
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

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
