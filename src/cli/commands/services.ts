import { createInterface } from 'node:readline/promises';
import { Platform } from '../../engine/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { table } from '../output.js';
import { withPlatform } from '../project-environment.js';

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

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
