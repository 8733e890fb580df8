import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { didYouMean, manifestError, type ResolvedManifest, type ResolvedService } from '../manifest/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { checkoutLabel, splitAppKey } from '../shared/app-keys.js';
import { findCheckout } from '../shared/git-checkout.js';
import type { ServiceRecord } from '../state/index.js';
import { loadConfig, type PlatformConfig } from './config.js';
import type { ProvisionedService } from './environment.js';
import { DEFAULT_SYMBOLS, PLUGINS } from './registry.js';
import { registry } from '../shared/plugin-registry.js';
import { managedNames } from '../shared/service-rows.js';
import type { DataStep, QueryRequest, QueryResult, ServerStatus, ServiceContext, ServicePlugin, ServiceRequest, ServiceSchema } from './types.js';
import { dumpWhat, isDumpFormat, sniffDump } from '../shared/dump-formats.js';
import { readGzip } from './dump-files.js';

export { idleServers } from '../shared/service-rows.js';

export { envName, isSecret, maskSecret, serviceEnvironment, type ProvisionedService } from './environment.js';
export { loadConfig, type PlatformConfig } from './config.js';
export { DEFAULT_SYMBOLS, PLUGIN_NAMES } from './registry.js';
export { findBinary, SERVER_SOFTWARE, type ServerSoftware } from './binaries.js';

/** The plugin a manifest's symbolic service name stands for: config.yml's, the default's, or a plugin of that name. */
export function pluginFor(config: PlatformConfig, symbolic: string): string | undefined {
  return config.services[symbolic]?.plugin ?? DEFAULT_SYMBOLS[symbolic] ?? (PLUGINS[symbolic] ? symbolic : undefined);
}
export type { Credentials, DataStep, QueryRequest, QueryResult, ServerStatus, ServiceContext, ServicePlugin, ServiceSchema } from './types.js';

/** One service of an app that a dump or a restore is of: as its plugin is asked for it, and the kind of file it dumps. */
export interface DataService {
  request: ServiceRequest;
  plugin: string;
  format: string;
}

/** A service of a manifest, resolved to its plugin through config.yml. */
export interface ResolvedBinding {
  service: ResolvedService;
  symbolic: string;
  plugin: string;
  options: Record<string, unknown>;
  perBranch: boolean;
  cloneFrom?: string;
}

/**
 * The service a dump or a restore takes when none is named, where no
 * platform runs (a command line's confirmation): the manifest's first whose
 * plugin can dump, the rule of Services.chooseDataService. A plugin is
 * asked through an object of its own made for the question (plugins make
 * nothing, no server, until used).
 */
export function defaultDataService(manifest: ResolvedManifest, home: string): string | undefined {
  return firstServiceThatCan(manifest, home, 'dump');
}

/** The service `paasmaker db query` and `db describe` take when none is named: the manifest's first whose plugin can be queried. */
export function defaultQueryService(manifest: ResolvedManifest, home: string): string | undefined {
  return firstServiceThatCan(manifest, home, 'query');
}

function firstServiceThatCan(manifest: ResolvedManifest, home: string, what: 'dump' | 'query'): string | undefined {
  const config = loadConfig(home);
  const probe: ServiceContext = { home, env: process.env, say: () => {}, get state(): never { throw new Error('no platform') }, get supervisor(): never { throw new Error('no platform') } };
  const can = (plugin: string | undefined) => {
    try {
      return Boolean(plugin && PLUGINS[plugin]?.(probe)[what]);
    } catch {
      return false;
    }
  };
  return manifest.services.find((service) => can(pluginFor(config, service.plugin)))?.name;
}

/** Refuses a file that is not a dump of the service's kind (named in the message), before anything is touched. */
export async function checkDumpKind(file: string, target: Pick<DataService, 'format'> & { request: Pick<ServiceRequest, 'service'> }): Promise<void> {
  // A kind a plugin package made up is the plugin's to check.
  if (!isDumpFormat(target.format)) return;
  const { format, empty } = await sniffDump(file);
  const name = basename(file);
  const hint = `give ${dumpWhat(target.format)}, as paasmaker db dump of a ${target.format} service writes it; nothing was changed`;
  if (empty) throw new PaasmakerError('DUMP_INVALID', `${name} is empty`, { hint });
  if (format === target.format) return;
  throw new PaasmakerError('DUMP_INVALID', `${name} is ${format ? dumpWhat(format) : 'not a dump Paasmaker knows'}; service ${target.request.service} is ${target.format}`, { hint });
}

/** The app a manifest's services belong to: its own name, for every checkout of it ("shop" for shop@feature-x). */
export function serviceApp(manifest: Pick<ResolvedManifest, 'application' | 'checkout'>): string {
  return manifest.checkout?.app ?? manifest.application.name;
}

/**
 * The branch a project folder's per-branch services are keyed by, and its
 * work tree: a linked worktree's branch, or its short commit when detached
 * (never the branchless database); the main worktree's branch, or '' when
 * detached (as before worktrees ran apart).
 */
export function checkoutOf(manifest: Pick<ResolvedManifest, 'directory' | 'checkout'>): { branch: string; worktree?: string } {
  if (manifest.checkout) return { branch: manifest.checkout.branch, worktree: manifest.checkout.worktree };
  const found = findCheckout(manifest.directory);
  if (!found) return { branch: '' };
  return { branch: found.detached && found.main ? '' : found.branch, worktree: found.worktree };
}

/**
 * The platform's services: resolves a manifest's symbolic names through
 * config.yml to plugins, provisions them (in parallel, idempotently) and
 * records what was made. Managed servers stop with close().
 */
export class Services {
  private readonly plugins = new Map<string, ServicePlugin>();
  private configCache: PlatformConfig | undefined;

  constructor(private readonly context: ServiceContext) {}

  get config(): PlatformConfig {
    return (this.configCache ??= loadConfig(this.context.home));
  }

  /** config.yml changed: read it again on next use. */
  forgetConfig(): void {
    this.configCache = undefined;
  }

  plugin(name: string): ServicePlugin {
    let plugin = this.plugins.get(name);
    if (!plugin) {
      const make = PLUGINS[name];
      if (!make) throw new PaasmakerError('SERVICE_UNKNOWN', `no service plugin "${name}"`);
      this.plugins.set(name, (plugin = make(this.context)));
    }
    return plugin;
  }

  /** Symbolic name → plugin and options; an unknown name is a positioned manifest error. */
  bind(manifest: ResolvedManifest, service: ResolvedService): ResolvedBinding {
    const symbolic = service.plugin;
    const configured = this.config.services[symbolic];
    const unavailable = configured?.unavailable;
    if (unavailable) {
      const intro = unavailable.code === 'PLUGIN_FAILED' ? `services.${service.name} of ${manifest.application.name} needs "${symbolic}": ` : '';
      throw new PaasmakerError(unavailable.code, `${intro}${unavailable.message}`, { hint: unavailable.hint, detail: unavailable.detail });
    }
    const plugin = pluginFor(this.config, symbolic);
    if (!plugin) {
      const known = [...new Set([...Object.keys(this.config.services), ...Object.keys(DEFAULT_SYMBOLS), ...Object.keys(PLUGINS)])];
      const guess = didYouMean(symbolic, known);
      throw manifestError(
        manifest.file,
        existsSync(manifest.file) ? readFileSync(manifest.file, 'utf8') : '',
        service.position,
        `services.${service.name} asks for "${symbolic}", which is not a service here${guess ? ` — did you mean "${guess}"?` : ''}${registry.failed().length > 0 ? ' (a plugin that failed to load may provide it)' : ''}`,
        `known: ${known.join(', ')}; or name it in ${this.config.file}${registry.failedNote()}`,
      );
    }
    const { per_branch: perBranch, clone_from: cloneFrom, ...rest } = { ...configured?.options, ...service.options } as Record<string, unknown>;
    // A plugin's own options, with the manifest's over config.yml's, checked with the schema it declares.
    const declared = registry.service(plugin)?.options;
    const checked = declared?.strict().safeParse(rest);
    if (checked && !checked.success) {
      const issue = checked.error.issues[0]!;
      const what = issue.code === 'unrecognized_keys' ? `unknown option "${issue.keys[0]}"` : `${[...issue.path].join('.')}: ${issue.message}`;
      throw manifestError(
        manifest.file,
        existsSync(manifest.file) ? readFileSync(manifest.file, 'utf8') : '',
        service.position,
        `services.${service.name} (${plugin}): ${what}`,
        `${plugin} takes: ${Object.keys(declared!.shape).join(', ') || 'no options'}`,
      );
    }
    // Unmarked, a service is per branch when config.yml or PAASMAKER_PER_BRANCH=1 says all are; per_branch: false keeps one shared.
    const branchy = typeof perBranch === 'boolean' ? perBranch : (this.config.perBranch ?? this.context.env.PAASMAKER_PER_BRANCH === '1');
    return { service, symbolic, plugin, options: rest, perBranch: branchy, cloneFrom: typeof cloneFrom === 'string' ? cloneFrom : undefined };
  }

  /** Everything a manifest's services need, made if missing; credentials for each. */
  async provision(manifest: ResolvedManifest): Promise<ProvisionedService[]> {
    // Every checkout of a project shares the services of its app's own name; per-branch ones are its branch's.
    const app = serviceApp(manifest);
    const bindings = manifest.services.map((service) => this.bind(manifest, service));
    const checkout = bindings.some((binding) => binding.perBranch) ? checkoutOf(manifest) : undefined;
    const branch = checkout?.branch ?? '';
    return Promise.all(
      bindings.map(async (binding) => {
        const plugin = this.plugin(binding.plugin);
        const request: ServiceRequest = { app, service: binding.service.name, branch: binding.perBranch ? branch : '', symbolic: binding.symbolic, options: binding.options };
        const known = this.context.state.services.get(app, request.service, request.branch);
        const credentials = await plugin.provision(request, this.context);
        if (!known && binding.cloneFrom && request.branch !== binding.cloneFrom && plugin.clone) {
          if (this.context.state.services.get(app, request.service, binding.cloneFrom)) {
            this.context.say(`${app}/${request.service}: copying the ${binding.cloneFrom} branch's data for ${request.branch || 'this folder'}`);
            await plugin.clone({ ...request, branch: binding.cloneFrom }, request, credentials, this.context);
          }
        }
        this.context.state.services.put({
          app,
          service: request.service,
          branch: request.branch,
          plugin: binding.plugin,
          symbolic: binding.symbolic,
          resource: credentials.database ?? credentials.path ?? '',
          checkout: request.branch ? checkout?.worktree : undefined,
        });
        return { name: request.service, symbolic: binding.symbolic, plugin: binding.plugin, kind: plugin.kind, urlVariable: plugin.urlVariable, branch: request.branch, credentials };
      }),
    );
  }

  /** Provisioned services, from state. */
  list(app?: string): ServiceRecord[] {
    return this.context.state.services.list(app);
  }

  /** An app's services by its key: a checkout's ("shop@feature-x") are its app's shared ones and its own branch's; the name alone gives them all. */
  listFor(key: string): ServiceRecord[] {
    const { app, label } = splitAppKey(key);
    const records = this.list(app);
    return label ? records.filter((record) => record.branch === '' || checkoutLabel(record.branch) === label) : records;
  }

  /** The managed servers and their state (without starting any). */
  servers(): ServerStatus[] {
    const statuses: ServerStatus[] = [];
    for (const name of managedNames()) {
      if (!existsSync(join(this.context.home, 'services', name))) continue;
      try {
        const plugin = this.plugin(name);
        if (!plugin.status) continue;
        statuses.push(plugin.status(this.context));
      } catch {
        statuses.push({ plugin: name, state: 'stopped', dataDir: join(this.context.home, 'services', name) });
      }
    }
    return statuses;
  }

  /** Drops one provisioned service and its data. The caller has asked for confirmation. */
  async destroy(record: ServiceRecord): Promise<void> {
    const symbol = this.config.services[record.symbolic];
    const options = symbol && symbol.plugin === record.plugin ? symbol.options : {};
    await this.plugin(record.plugin).destroy({ app: record.app, service: record.service, branch: record.branch, symbolic: record.symbolic, options }, this.context);
    this.context.state.services.remove(record.app, record.service, record.branch);
  }

  /**
   * The manifest's service a dump or a restore is of: the one named, else the
   * first whose plugin can dump; provisioned (its server started) if needed.
   * A plugin that keeps no data (parameters) is refused here.
   */
  async dataService(manifest: ResolvedManifest, name?: string): Promise<DataService> {
    const { service, plugin, format } = this.chooseDataService(manifest, name);
    const [provisioned] = await this.provision({ ...manifest, services: [service] });
    const binding = this.bind(manifest, service);
    const request: ServiceRequest = { app: serviceApp(manifest), service: service.name, branch: provisioned!.branch, symbolic: binding.symbolic, options: binding.options };
    return { request, plugin, format };
  }

  /** The service dataService() takes, its plugin and its dump format, without provisioning anything: a wrong name is refused at once. */
  chooseDataService(manifest: ResolvedManifest, name?: string): { service: ResolvedService; plugin: string; format: string } {
    const app = manifest.application.name;
    const names = manifest.services.map((service) => service.name);
    if (names.length === 0) throw new PaasmakerError('SERVICE_NOT_FOUND', `${app} declares no services`, { hint: `add one to ${manifest.file}: services: {db: {plugin: sqlite}}` });
    const bound = manifest.services.map((service) => ({ service, plugin: this.bind(manifest, service).plugin }));
    const dumpable = (plugin: string) => Boolean(this.plugin(plugin).dump);
    const chosen = name ? bound.find((each) => each.service.name === name) : bound.find((each) => dumpable(each.plugin));
    if (!chosen && name) {
      const guess = didYouMean(name, names);
      throw new PaasmakerError('SERVICE_NOT_FOUND', `${app} has no service "${name}"${guess ? ` — did you mean "${guess}"?` : ''}`, { hint: `its services: ${names.join(', ')}` });
    }
    if (!chosen) throw new PaasmakerError('SERVICE_NOT_FOUND', `none of ${app}'s services keeps data to dump (${bound.map((each) => `${each.service.name}: ${each.plugin}`).join(', ')})`, { hint: 'sqlite, postgres, mysql, redis and filesystem services can be dumped' });
    const plugin = this.plugin(chosen.plugin);
    if (!plugin.dump || !plugin.restore || !plugin.dumpFormat) {
      throw new PaasmakerError('USAGE', `service ${chosen.service.name} of ${app} is a ${chosen.plugin} service: it has no data to dump or restore`, {
        hint: `services of ${app} that can: ${bound.filter((each) => dumpable(each.plugin)).map((each) => each.service.name).join(', ') || 'none'}`,
      });
    }
    return { service: chosen.service, plugin: chosen.plugin, format: plugin.dumpFormat };
  }

  /** The names of the manifest's services whose plugins can dump, in the manifest's order (a snapshot takes them all). */
  dataServiceNames(manifest: ResolvedManifest): string[] {
    return manifest.services.filter((service) => Boolean(this.plugin(this.bind(manifest, service).plugin).dump)).map((service) => service.name);
  }

  /** Writes a service's data to `file` (see ServicePlugin.dump). */
  async dump(target: DataService, file: string, step: DataStep): Promise<void> {
    await this.plugin(target.plugin).dump!(target.request, file, step);
  }

  /**
   * Refuses a file that is not a dump of the service's kind, by its first
   * bytes, before the plugin sees it; then replaces the service's data with
   * it (see ServicePlugin.restore).
   */
  async restore(target: DataService, file: string, step: DataStep): Promise<void> {
    await checkDumpKind(file, target);
    await this.plugin(target.plugin).restore!(target.request, file, step);
  }

  /**
   * Refuses a file restore() would refuse, reading it whole where that is
   * cheap, without touching the service: its kind by its first bytes, then
   * the plugin's own check, else a gzip file decompressed to its end.
   */
  async check(target: DataService, file: string, step: DataStep): Promise<void> {
    await checkDumpKind(file, target);
    const plugin = this.plugin(target.plugin);
    if (plugin.check) return plugin.check(target.request, file, step);
    if ((await sniffDump(file)).gzip) await readGzip(file, target.format, dumpWhat(target.format), step);
  }

  /**
   * A provisioned service of an app, as its plugin is asked for it by a
   * query or a description: state's record (the plugin that made it), with
   * the options of the manifest's binding when the manifest is known and
   * binds it to that plugin, else config.yml's. A service with a database
   * per branch takes `branch`, else the project folder's branch, else its
   * only one. SERVICE_NOT_FOUND when the app has no such service, or it was
   * never provisioned.
   */
  provisioned(name: string, service: string, options: { manifest?: ResolvedManifest; branch?: string } = {}): { request: ServiceRequest; record: ServiceRecord } {
    const { manifest } = options;
    // A checkout ("shop@feature-x") reaches its app's services.
    const app = manifest ? serviceApp(manifest) : splitAppKey(name).app;
    const records = this.list(app).filter((record) => record.service === service);
    const declared = manifest?.services.find((each) => each.name === service);
    if (!declared && records.length === 0) {
      const names = [...new Set([...(manifest?.services.map((each) => each.name) ?? []), ...this.list(app).map((record) => record.service)])];
      const guess = didYouMean(service, names);
      throw new PaasmakerError('SERVICE_NOT_FOUND', `${app} has no service "${service}"${guess ? ` — did you mean "${guess}"?` : ''}`, { hint: names.length > 0 ? `its services: ${names.join(', ')}` : 'paasmaker services lists what is provisioned' });
    }
    const binding = manifest && declared ? this.bind(manifest, declared) : undefined;
    let branch = options.branch;
    if (branch === undefined && binding) branch = binding.perBranch ? checkoutOf(manifest!).branch : '';
    const record = branch === undefined ? (records.length === 1 ? records[0] : records.find((each) => each.branch === '')) : records.find((each) => each.branch === branch);
    if (!record) {
      const where = branch ? ` (branch ${branch})` : '';
      throw new PaasmakerError('SERVICE_NOT_FOUND', `service ${app}/${service}${where} is not provisioned yet`, {
        hint: records.length > 0 ? `its branches: ${records.map((each) => each.branch || '(none)').join(', ')}` : 'start the app once (paasmaker up) so its services are made',
      });
    }
    const configured = this.config.services[record.symbolic];
    const settings = binding && binding.plugin === record.plugin ? binding.options : configured && configured.plugin === record.plugin ? configured.options : {};
    return { request: { app, service: record.service, branch: record.branch, symbolic: record.symbolic, options: settings }, record };
  }

  /** The plugin of a provisioned service, refused (naming it) when it cannot `what`. */
  private reader(record: ServiceRecord, what: 'query' | 'describe'): ServicePlugin {
    const plugin = this.plugin(record.plugin);
    if (!plugin[what]) {
      throw new PaasmakerError('USAGE', `service ${record.app}/${record.service} is a ${record.plugin} service: the ${record.plugin} plugin cannot be ${what === 'query' ? 'queried' : 'described'}`, {
        hint: 'postgres, mysql, sqlite and redis services (and their -external forms) can',
      });
    }
    return plugin;
  }

  /** One read-only query of a provisioned service (see ServicePlugin.query). */
  async query(target: { request: ServiceRequest; record: ServiceRecord }, query: QueryRequest): Promise<QueryResult> {
    return this.reader(target.record, 'query').query!(target.request, query);
  }

  /** A provisioned service's tables and columns (see ServicePlugin.describe). */
  async describe(target: { request: ServiceRequest; record: ServiceRecord }): Promise<ServiceSchema> {
    return this.reader(target.record, 'describe').describe!(target.request);
  }

  /** Stops the managed servers this platform started. */
  async close(): Promise<void> {
    await Promise.all([...this.plugins.values()].map((plugin) => plugin.stop?.()));
  }
}
