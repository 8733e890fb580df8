import type { ResolvedManifest } from '../manifest/index.js';
import { PaasmakerError } from '../shared/errors.js';
import type { ProjectEnvironmentRow } from '../shared/views.js';
import { appEnvironment, instanceEnvironment } from './environment.js';
import type { Platform } from './platform.js';

/** What a face needs to run something of a project on this machine: `env`, `run`, `db shell` (declared with the other views). */
export type ProjectEnvironment = ProjectEnvironmentRow;

/**
 * Provisions what the project's services lack (a running app keeps the
 * credentials its instances got) and answers its environment; with
 * `command`, a one-off command's; with `service`, that service's shell.
 */
export async function projectEnvironment(platform: Platform, manifest: ResolvedManifest, options: { instance?: string; command?: boolean; service?: string } = {}): Promise<ProjectEnvironment> {
  const app = manifest.application.name;
  const running = platform.runningEnvironment(app);
  const services = running?.services ?? (await platform.provisionServices(running?.manifest ?? manifest));
  const environment = appEnvironment(running?.manifest ?? manifest, services, options.instance);
  const command = options.command ? await commandEnvironment(platform, running?.manifest ?? manifest, services, options.instance) : null;
  return { app, directory: manifest.directory, environment, command, shell: options.service === undefined ? null : await serviceShell(platform, manifest, options.service) };
}

/**
 * What a one-off command of the app gets (the instance type's environment,
 * the runtime's PATH and variables, no port) beyond the caller's own
 * environment: the command runs as the caller's child, not the platform's.
 */
async function commandEnvironment(platform: Platform, manifest: ResolvedManifest, services: Record<string, string>, instanceName?: string): Promise<Record<string, string>> {
  // A name the manifest does not have was refused by appEnvironment already.
  const instance = manifest.instances.find((candidate) => candidate.name === (instanceName ?? 'web')) ?? manifest.instances[0]!;
  const plan = await platform.runtimePlan(manifest, instance);
  const full = instanceEnvironment({ base: process.env, manifest, instance, plan, index: 0, ownerToken: '', services });
  // This process's own environment is the base: the caller's replaces it, so only what differs is answered.
  return Object.fromEntries(Object.entries(full).filter(([key, value]) => process.env[key] !== value && key !== 'PAASMAKER_OWNER'));
}

/** The shell of one of the project's services (the first when the name is empty), provisioned if needed. */
async function serviceShell(platform: Platform, manifest: ResolvedManifest, name: string): Promise<NonNullable<ProjectEnvironment['shell']>> {
  if (manifest.services.length === 0) throw new PaasmakerError('SERVICE_NOT_FOUND', `${manifest.file} declares no services`, { hint: 'add one: services: {db: {plugin: postgres}}' });
  const service = name ? manifest.services.find((candidate) => candidate.name === name) : manifest.services[0];
  if (!service) throw new PaasmakerError('SERVICE_NOT_FOUND', `no service "${name}" in ${manifest.file}`, { hint: `services: ${manifest.services.map((candidate) => candidate.name).join(', ')}` });
  const provisioned = (await platform.services.provision({ ...manifest, services: [service] }))[0]!;
  const plugin = platform.services.plugin(provisioned.plugin);
  if (!plugin.shell) throw new PaasmakerError('USAGE', `a ${provisioned.plugin} service has no shell`, { hint: `its folder: ${provisioned.credentials.path ?? '(none)'}` });
  return plugin.shell(provisioned.credentials);
}
