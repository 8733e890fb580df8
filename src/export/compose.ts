import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { Document, parse } from 'yaml';
import { appEnvironment } from '../engine/environment.js';
import type { ResolvedManifest } from '../shared/manifest.js';
import { PaasmakerError } from '../shared/errors.js';
import { serviceEnvironment, type ProvisionedService } from '../services/environment.js';
import { parameterValues } from '../services/plugins/local.js';
import type { Credentials, ServiceKind } from '../services/types.js';
import { bindsLoopback, CONTAINER_HOST, EXPORT_MARK, healthProbe, IMAGE_PORT, imagePlans, launchCommand, loopbackWarning, DOCKERIGNORE, type ImagePlan } from './images.js';

export interface ComposeOptions {
  /** --image INSTANCE=IMAGE. */
  images: Record<string, string>;
  /** --registry PREFIX. */
  registry?: string;
  /** The compose file to write (absolute): Dockerfiles go beside it, the build context is the project. */
  file: string;
  /** The plugin a manifest's symbolic service name stands for (config.yml's, else the default); undefined: unknown. */
  pluginFor: (symbolic: string) => string | undefined;
  /** How the build lines name the output folder and the project (relative to where they are run). */
  shown?: { directory: string; context: string };
  /** A new password for a database container (default: random); one kept from the file being replaced wins. */
  password?: () => string;
}

export interface ComposeExport {
  /** compose.yaml's text. */
  text: string;
  /** Files to write beside it (absolute paths): Dockerfiles and their .dockerignore. */
  files: Array<{ path: string; text: string }>;
  plans: ImagePlan[];
  /** What the user should know (crons compose cannot run, one-replica volumes), for stderr. */
  notes: string[];
  /** What likely breaks in a container (a command listening on loopback), for stderr. */
  warnings: string[];
}

/** The official images the app's databases run as, and where they keep their data. */
const DATABASES = {
  postgres: { image: 'postgres:15', port: 5432, data: '/var/lib/postgresql/data', kind: 'sql' as ServiceKind },
  mariadb: { image: 'mariadb:10.11', port: 3306, data: '/var/lib/mysql', kind: 'sql' as ServiceKind },
  redis: { image: 'redis:7', port: 6379, data: '/data', kind: 'redis' as ServiceKind },
  mailpit: { image: 'axllent/mailpit:v1.21', port: 1025, data: '/data', kind: 'mail' as ServiceKind },
};
type Family = keyof typeof DATABASES | 'sqlite' | 'filesystem' | 'parameters';

/** A service plugin's family: the managed and -external plugins of a database are the same image here. */
function familyOf(plugin: string | undefined): Family | undefined {
  if (plugin === undefined) return undefined;
  if (/^postgres/.test(plugin)) return 'postgres';
  if (/^(mysql|mariadb)/.test(plugin)) return 'mariadb';
  if (/^redis/.test(plugin)) return 'redis';
  if (plugin === 'mail') return 'mailpit';
  if (plugin === 'sqlite' || plugin === 'filesystem' || plugin === 'parameters') return plugin;
  return undefined;
}

/** A name compose takes for a service or a volume: lowercase letters, digits, - and _. */
const composeName = (name: string) => name.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
/** A value compose must not interpolate: $ doubled. */
const literal = (value: string) => value.replace(/\$/g, '$$$$');
const password = () => randomBytes(18).toString('hex');
const seconds = (value: number) => `${value}s`;
/** Where compose publishes ports on the host. */
const LOOPBACK = '127.0.0.1';

/**
 * The app as a compose.yaml: one service per instance type (built from the
 * Dockerfile imagePlans writes, or the image given), its databases as the
 * official images with named volumes and healthchecks, and each instance
 * type's environment with exactly the names `paasmaker env` gives locally,
 * the credentials pointing at the compose services. Passwords are generated
 * once and kept from the file being replaced, so an export again writes the
 * same text.
 */
export async function composeExport(manifest: ResolvedManifest, options: ComposeOptions): Promise<ComposeExport> {
  const app = manifest.application.name;
  const outDir = dirname(options.file);
  const previous = previousServices(options.file);
  const notes: string[] = [];
  const warnings: string[] = [];
  const instanceNames = new Set(manifest.instances.map((instance) => composeName(instance.name)));
  const services: Record<string, unknown> = {};
  const volumes: Record<string, Record<string, never>> = {};
  const provisioned: ProvisionedService[] = [];
  const mounts: string[] = [];
  const databases: string[] = [];

  for (const service of manifest.services) {
    const plugin = options.pluginFor(service.plugin);
    const family = familyOf(plugin);
    if (!family) {
      throw new PaasmakerError('SERVICE_UNKNOWN', `services.${service.name} is a ${plugin ?? service.plugin} service, which compose export has no image for`, {
        hint: 'postgres, mysql, redis, mail, sqlite, filesystem and parameters services export; run the others beside the stack and pass their variables yourself',
      });
    }
    let name = composeName(service.name);
    if (instanceNames.has(name)) name = `${name}-service`;
    const volume = `${name}-data`;
    const kept = (key: string) => {
      const value = previous[name]?.environment?.[key];
      return typeof value === 'string' && /^[0-9a-f]{16,}$/.test(value) ? value : (options.password ?? password)();
    };
    let credentials: Credentials;
    if (family === 'sqlite' || family === 'filesystem') {
      volumes[volume] = {};
      const folder = `/data/${name}`;
      mounts.push(`${volume}:${folder}`);
      const path = family === 'sqlite' ? `${folder}/${name}.sqlite3` : folder;
      credentials = family === 'sqlite' ? { protocol: 'sqlite', path, database: path, url: `sqlite://${path}` } : { protocol: 'file', path };
      if (manifest.instances.some((instance) => instance.quantity > 1)) notes.push(`services.${service.name} (${family}) is a volume on one machine: on a cluster it limits each instance type to one replica`);
    } else if (family === 'parameters') {
      credentials = { protocol: 'parameters', values: parameterValues(service.options) };
    } else {
      volumes[volume] = {};
      databases.push(name);
      const database = DATABASES[family];
      const db = composeName(`${app}_${service.name}`).replace(/-/g, '_');
      const secret = kept(family === 'postgres' ? 'POSTGRES_PASSWORD' : family === 'mariadb' ? 'MARIADB_PASSWORD' : 'REDIS_PASSWORD');
      services[name] = databaseService(family, { user: db, password: secret, rootPassword: family === 'mariadb' ? kept('MARIADB_ROOT_PASSWORD') : '', volume });
      credentials = databaseCredentials(family, name, database.port, db, secret);
    }
    provisioned.push({
      name: service.name,
      symbolic: service.plugin,
      plugin: plugin!,
      kind: family === 'sqlite' ? 'sql' : family === 'filesystem' ? 'file' : family === 'parameters' ? 'values' : DATABASES[family].kind,
      urlVariable: family === 'mailpit' ? 'MAIL_URL' : undefined,
      branch: '',
      credentials,
    });
  }

  const serviceEnv = serviceEnvironment(app, provisioned, manifest.application.workspace ?? 'default');
  // The node the app runs on is the compose project's, not this machine's.
  const metadata = JSON.parse(serviceEnv.PM_METADATA!) as { node: { name: string } };
  metadata.node.name = 'compose';
  serviceEnv.PM_METADATA = JSON.stringify(metadata);
  const context = posixPath(relative(outDir, manifest.directory)) || '.';
  const plans = imagePlans(manifest, { images: options.images, registry: options.registry, directory: options.shown?.directory, context: options.shown?.context });
  const files: ComposeExport['files'] = [];
  let hostPort = IMAGE_PORT;
  const healthy = new Set<string>();
  for (const [index, instance] of manifest.instances.entries()) {
    const plan = plans[index]!;
    const name = composeName(instance.name);
    const entry: Record<string, unknown> = {};
    if (plan.dockerfile) {
      const path = join(outDir, plan.dockerfile.path);
      if (!files.some((file) => file.path === path)) files.push({ path, text: plan.dockerfile.text }, { path: `${path}.dockerignore`, text: DOCKERIGNORE });
      entry.build = { context, dockerfile: posixPath(relative(manifest.directory, path)) };
    }
    entry.image = plan.image;
    const launch = plan.dockerfile ? launchCommand(manifest, instance) : instance.command;
    if (!instance.standalone && launch !== undefined && bindsLoopback(launch)) warnings.push(loopbackWarning(instance.name, launch));
    if (instance.startup.length > 0) {
      if (launch !== undefined) entry.command = ['/bin/sh', '-c', literal(`${instance.startup.join(' && ')} && exec ${launch}`)];
      else notes.push(`instances.${instance.name}: its startup commands (${instance.startup.join('; ')}) are left to the image ${plan.image}`);
    }
    const environment = { ...appEnvironment(manifest, serviceEnv, instance.name), ...(instance.standalone ? {} : { PORT: String(IMAGE_PORT), HOST: CONTAINER_HOST }) };
    entry.environment = Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, literal(value)]));
    if (!instance.standalone) {
      // Published on the host's loopback, as Paasmaker serves locally (several replicas: a port each, chosen by docker).
      entry.ports = [instance.quantity > 1 ? `${LOOPBACK}::${IMAGE_PORT}` : `${LOOPBACK}:${hostPort++}:${IMAGE_PORT}`];
      const probe = plan.dockerfile ? healthProbe(instance) : undefined;
      if (probe) {
        entry.healthcheck = { test: probe.map(literal), interval: seconds(instance.health.interval), timeout: '5s', retries: instance.health.failures, start_period: seconds(instance.health.timeout) };
        healthy.add(instance.name);
      }
    }
    if (mounts.length > 0) entry.volumes = [...mounts];
    const dependsOn: Record<string, { condition: string }> = {};
    for (const db of databases) dependsOn[db] = { condition: 'service_healthy' };
    for (const dependency of instance.depends_on) {
      const other = manifest.instances.find((candidate) => candidate.name === dependency);
      const condition = other?.oneshot ? 'service_completed_successfully' : healthy.has(dependency) || (other && healthProbe(other) && plans.find((p) => p.instance === dependency)?.dockerfile && !other.standalone) ? 'service_healthy' : 'service_started';
      dependsOn[composeName(dependency)] = { condition };
    }
    if (Object.keys(dependsOn).length > 0) entry.depends_on = dependsOn;
    entry.restart = instance.oneshot || instance.restart === 'never' ? 'no' : instance.restart === 'always' ? 'always' : 'on-failure';
    entry.stop_grace_period = seconds(instance.stopTimeout);
    entry.deploy = { replicas: instance.quantity };
    services[name] = entry;
  }

  // The app's instance types first, then its databases: the order a reader looks for.
  const ordered = Object.fromEntries([...manifest.instances.map((instance) => composeName(instance.name)), ...Object.keys(services).filter((name) => !instanceNames.has(name))].map((name) => [name, services[name]]));
  // YAML 1.1 quoting: "on", "yes" or "12:30" stay strings for every compose implementation's reader.
  const document = new Document({ name: composeName(app), services: ordered, ...(Object.keys(volumes).length > 0 ? { volumes } : {}) }, { version: '1.1' });
  const crons = manifest.instances.flatMap((instance) => instance.crons.map((cron) => ({ instance: instance.name, cron })));
  const header = [
    EXPORT_MARK.slice(1),
    ` compose for ${app} (paasmaker export compose): docker compose up --build`,
    ' The passwords are generated for these containers; an export again keeps them.',
  ];
  if (crons.length > 0) {
    header.push(' Crons (compose has no scheduler: run them from the host\'s cron or a scheduler of your own):');
    for (const { instance, cron } of crons) header.push(`   ${cron.name} (${instance}): ${cron.schedule} ${cron.command ?? `GET ${cron.uri}`}`);
    notes.push(`compose has no cron: the ${crons.length} cron${crons.length === 1 ? '' : 's'} (${crons.map(({ cron }) => cron.name).join(', ')}) are listed in a comment at the top of ${relative(process.cwd(), options.file) || options.file}, not run`);
  }
  document.commentBefore = header.join('\n');
  return { text: document.toString({ lineWidth: 0 }), files, plans, notes, warnings };
}

function databaseService(family: keyof typeof DATABASES, given: { user: string; password: string; rootPassword: string; volume: string }): Record<string, unknown> {
  const { image, data } = DATABASES[family];
  const health = { interval: '5s', timeout: '5s', retries: 20, start_period: '10s' };
  const volumes = [`${given.volume}:${data}`];
  switch (family) {
    case 'postgres':
      return {
        image,
        environment: { POSTGRES_USER: given.user, POSTGRES_PASSWORD: given.password, POSTGRES_DB: given.user },
        volumes,
        // Over TCP: while the image initializes the database its server listens on the Unix socket only, then restarts.
        healthcheck: { test: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-U', given.user, '-d', given.user], ...health },
        restart: 'unless-stopped',
      };
    case 'mariadb':
      return {
        image,
        environment: { MARIADB_DATABASE: given.user, MARIADB_USER: given.user, MARIADB_PASSWORD: given.password, MARIADB_ROOT_PASSWORD: given.rootPassword },
        volumes,
        healthcheck: { test: ['CMD', 'healthcheck.sh', '--connect', '--innodb_initialized'], ...health },
        restart: 'unless-stopped',
      };
    case 'redis':
      return {
        image,
        command: ['redis-server', '--appendonly', 'yes', '--requirepass', given.password],
        environment: { REDIS_PASSWORD: given.password },
        volumes,
        healthcheck: { test: ['CMD', 'redis-cli', '--no-auth-warning', '-a', given.password, 'ping'], ...health },
        restart: 'unless-stopped',
      };
    case 'mailpit':
      return {
        image,
        environment: { MP_DATABASE: '/data/mailpit.db' },
        volumes,
        ports: [`${LOOPBACK}:8025:8025`],
        healthcheck: { test: ['CMD', '/mailpit', 'readyz'], ...health },
        restart: 'unless-stopped',
      };
  }
}

function databaseCredentials(family: keyof typeof DATABASES, hostname: string, port: number, user: string, secret: string): Credentials {
  switch (family) {
    case 'postgres':
      return { protocol: 'pgsql', hostname, port, username: user, password: secret, database: user, url: `postgresql://${user}:${secret}@${hostname}:${port}/${user}` };
    case 'mariadb':
      return { protocol: 'mysql', hostname, port, username: user, password: secret, database: user, url: `mysql://${user}:${secret}@${hostname}:${port}/${user}` };
    case 'redis':
      return { protocol: 'redis', hostname, port, username: 'default', password: secret, database: '0', url: `redis://default:${secret}@${hostname}:${port}/0` };
    case 'mailpit':
      return { protocol: 'smtp', hostname, port, url: `smtp://${hostname}:${port}` };
  }
}

/** The services of the compose file an export wrote before (for its passwords); nothing when there is none or it is someone else's. */
function previousServices(file: string): Record<string, { environment?: Record<string, unknown> }> {
  if (!existsSync(file)) return {};
  const text = readFileSync(file, 'utf8');
  if (!text.startsWith(EXPORT_MARK)) {
    throw new PaasmakerError('ALREADY_EXISTS', `${file} exists and was not written by paasmaker export`, { hint: 'write the export elsewhere with -o FILE, or move that file away; nothing was changed' });
  }
  try {
    const parsed = parse(text) as { services?: Record<string, { environment?: Record<string, unknown> }> } | null;
    return parsed?.services ?? {};
  } catch {
    return {};
  }
}

function posixPath(path: string): string {
  return path.split(sep).join('/');
}
