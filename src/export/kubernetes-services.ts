import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { ResolvedManifest, ResolvedService } from '../shared/manifest.js';
import type { PlatformConfig } from '../services/config.js';
import { pluginFor } from '../services/index.js';
import { envName, serviceEnvironment, type ProvisionedService } from '../services/environment.js';
import { parameterValues } from '../services/plugins/local.js';
import type { Credentials, ServiceKind } from '../services/types.js';
import { PaasmakerError } from '../shared/errors.js';

/** What a service's objects and variables are made from. */
export interface ServiceExportOptions {
  services: 'external' | 'managed';
  /** --set SERVICE.KEY=VALUE: url, host, port, user, password, database (a parameters service: any key). */
  set: Record<string, Record<string, string>>;
  /** The password of a managed server's credentials Secret (by its name): the one an earlier export wrote, else a new one. */
  password: (secret: string) => string;
  /** $PAASMAKER_HOME/config.yml, for the plugins of symbolic names it defines (pg-shared). */
  config?: PlatformConfig;
}

/** A Kubernetes object as the export builds it: a kubernetes-models class instance. */
export interface KubeObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  validate(): void;
  toJSON(): unknown;
}

/** A service's volume the app's pods mount (sqlite, filesystem). */
export interface ServiceVolume {
  service: string;
  claim: string;
  mountPath: string;
}

export interface ServicesExport {
  /** Objects of the services themselves: StatefulSets, their Services and credentials, volume claims. */
  objects: KubeObject[];
  /** Secrets the app's containers take their environment from, in order (a later one wins). */
  secrets: string[];
  /** Variables for the app's ConfigMap (a parameters service's values). */
  config: Record<string, string>;
  volumes: ServiceVolume[];
  /** Lines for stderr: placeholders to fill, why replicas are limited. */
  notes: string[];
}

/** Where the export puts local files of sqlite and filesystem services in a pod. */
export const DATA_ROOT = '/var/lib/paasmaker';

type Engine = 'postgres' | 'mysql' | 'redis';

const ENGINES: Record<Engine, { image: string; port: number; scheme: string; protocol: string; mountPath: string; what: string }> = {
  postgres: { image: 'postgres:15', port: 5432, scheme: 'postgresql', protocol: 'pgsql', mountPath: '/var/lib/postgresql/data', what: 'PostgreSQL' },
  mysql: { image: 'mariadb:10.11', port: 3306, scheme: 'mysql', protocol: 'mysql', mountPath: '/var/lib/mysql', what: 'MariaDB' },
  redis: { image: 'redis:7', port: 6379, scheme: 'redis', protocol: 'redis', mountPath: '/data', what: 'Redis' },
};

const KINDS: Record<string, ServiceKind> = { postgres: 'sql', mysql: 'sql', redis: 'redis', sqlite: 'sql', filesystem: 'file', parameters: 'values', mail: 'mail' };

/** The built-in plugin a manifest's symbolic name stands for, as config.yml says (postgres-external counts as postgres); else the plugin's own name. */
export function builtInPlugin(service: ResolvedService, config: PlatformConfig = { file: '', services: {}, plugins: [] }): string {
  return (pluginFor(config, service.plugin) ?? service.plugin).replace(/-external$/, '');
}

/** A name Kubernetes takes for an object: lowercase, a-z0-9 and "-", at most `max` characters. */
export function kubeName(max: number, ...parts: string[]): string {
  const name = parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return name.slice(0, max).replace(/-$/, '');
}

export const standardLabels = (app: string, component: string): Record<string, string> => ({
  'app.kubernetes.io/name': app,
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/managed-by': 'paasmaker',
});

/**
 * What a Deployment, StatefulSet, Service or spread constraint selects: pods
 * of one instance type, or of one service's server, by a label of each kind
 * (a service and an instance type of the same name never share pods; a
 * cron's pods, labelled with their cron, are selected by none).
 */
export const selectorLabels = (app: string, kind: 'instance' | 'service' | 'cron', name: string): Record<string, string> => ({
  'app.kubernetes.io/name': app,
  [`paasmaker.io/${kind}`]: kubeName(63, name),
});

/** A pod's labels: the standard ones and what selects it. */
export const podLabels = (app: string, component: string, kind: 'instance' | 'service' | 'cron', name: string): Record<string, string> => ({ ...standardLabels(app, component), ...selectorLabels(app, kind, name) });

/** Pods of the export run with the runtime's default seccomp profile and no API token: an app has no business with the cluster's API. */
export const POD_SECURITY = { automountServiceAccountToken: false, securityContext: { seccompProfile: { type: 'RuntimeDefault' as const } } };

const placeholder = (what: string) => `REPLACE-ME: ${what}`;

/** The parts of a service URL given with --set SERVICE.url=…, then each part given on its own. */
function givenParts(service: string, given: Record<string, string>): Record<string, string> {
  const parts: Record<string, string> = {};
  if (given.url) {
    let url: URL;
    try {
      url = new URL(given.url);
    } catch {
      throw new PaasmakerError('USAGE', `--set ${service}.url=${given.url} is not a URL`, { hint: `for example --set ${service}.url=postgresql://user:password@db.example.com:5432/shop` });
    }
    if (url.hostname) parts.host = url.hostname;
    if (url.port) parts.port = url.port;
    if (url.username) parts.user = decodeURIComponent(url.username);
    if (url.password) parts.password = decodeURIComponent(url.password);
    const database = url.pathname.replace(/^\//, '');
    if (database) parts.database = decodeURIComponent(database);
  }
  for (const [key, value] of Object.entries(given)) if (key !== 'url') parts[key] = value;
  return parts;
}

const KNOWN_KEYS = ['url', 'host', 'port', 'user', 'password', 'database'];

/** Credentials of a database server outside the cluster: what --set gave, a placeholder for the rest. */
function externalCredentials(engine: Engine, service: string, given: Record<string, string>): { credentials: Credentials; missing: string[] } {
  const unknown = Object.keys(given).filter((key) => !KNOWN_KEYS.includes(key));
  if (unknown.length > 0) throw new PaasmakerError('USAGE', `--set ${service}.${unknown[0]}: a ${ENGINES[engine].what} service takes ${KNOWN_KEYS.join(', ')}`);
  const spec = ENGINES[engine];
  const parts = givenParts(service, given);
  const defaults: Record<string, string> = { port: String(spec.port), ...(engine === 'redis' ? { database: '0' } : {}) };
  const missing = ['host', 'user', 'password', 'database'].filter((key) => parts[key] === undefined && defaults[key] === undefined && !(engine === 'redis' && key === 'user'));
  const value = (key: string) => parts[key] ?? defaults[key] ?? placeholder(`${service} ${key}`);
  const port = Number(value('port'));
  const auth = parts.user !== undefined || engine !== 'redis' ? `${encodeURIComponent(value('user'))}:${encodeURIComponent(value('password'))}@` : parts.password !== undefined ? `:${encodeURIComponent(parts.password)}@` : '';
  const url = given.url ?? (missing.length === 0 ? `${spec.scheme}://${auth}${value('host')}:${port}/${value('database')}` : placeholder(`${spec.scheme} URL of ${service}, or set ${missing.map((key) => `${service}.${key}`).join(', ')}`));
  return {
    credentials: {
      protocol: spec.protocol,
      hostname: value('host'),
      port: Number.isFinite(port) ? port : spec.port,
      ...(engine === 'redis' && parts.user === undefined ? {} : { username: value('user') }),
      ...(engine === 'redis' && parts.password === undefined ? {} : { password: value('password') }),
      database: value('database'),
      url,
    },
    missing,
  };
}

/** The Secret holding a managed server's own credentials. */
export const credentialsName = (app: string, service: string): string => `${kubeName(52, app, service)}-credentials`;

/** The passwords of managed servers' credentials Secrets in YAML an earlier export wrote, by Secret name: exporting again keeps them. */
export function earlierPasswords(documents: readonly unknown[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const document of documents) {
    const object = document as { kind?: unknown; metadata?: { name?: unknown }; stringData?: Record<string, unknown> } | null;
    const name = object?.metadata?.name;
    if (object?.kind !== 'Secret' || typeof name !== 'string' || !name.endsWith('-credentials')) continue;
    const data = object.stringData ?? {};
    const password = data.POSTGRES_PASSWORD ?? data.MARIADB_PASSWORD ?? data.REDIS_PASSWORD;
    if (typeof password === 'string' && password !== '') found.set(name, password);
  }
  return found;
}

/** A database server in the cluster: a StatefulSet with a volume claim, its Service, its credentials' Secret. */
function managedServer(engine: Engine, app: string, service: string, passwordFor: (secret: string) => string, namespace: string | undefined): { objects: KubeObject[]; credentials: Credentials } {
  const spec = ENGINES[engine];
  const name = kubeName(52, app, service);
  const labels = standardLabels(app, service);
  const selector = selectorLabels(app, 'service', service);
  const credentialsSecret = credentialsName(app, service);
  const password = passwordFor(credentialsSecret);
  const user = engine === 'redis' ? 'default' : kubeName(32, app).replace(/-/g, '_');
  const database = engine === 'redis' ? '0' : user;
  const meta = (objectName: string) => ({ name: objectName, ...(namespace ? { namespace } : {}), labels });
  const secretData: Record<string, string> =
    engine === 'postgres'
      ? { POSTGRES_USER: user, POSTGRES_PASSWORD: password, POSTGRES_DB: database, PGDATA: `${spec.mountPath}/pgdata` }
      : engine === 'mysql'
        ? { MARIADB_USER: user, MARIADB_PASSWORD: password, MARIADB_DATABASE: database, MARIADB_ROOT_PASSWORD: password }
        : { REDIS_PASSWORD: password };
  const container = {
    name: engine,
    image: spec.image,
    ...(engine === 'redis' ? { args: ['--requirepass', '$(REDIS_PASSWORD)', '--appendonly', 'yes'] } : {}),
    envFrom: [{ secretRef: { name: credentialsSecret } }],
    ports: [{ name: engine, containerPort: spec.port }],
    // Ready when the server answers (not merely listens: postgres and mariadb listen while they initialize).
    readinessProbe:
      engine === 'postgres'
        ? { exec: { command: ['pg_isready', '-h', '127.0.0.1', '-U', user, '-d', database] }, periodSeconds: 5 }
        : engine === 'mysql'
          ? { exec: { command: ['healthcheck.sh', '--connect', '--innodb_initialized'] }, periodSeconds: 5 }
          : { exec: { command: ['sh', '-c', 'redis-cli --no-auth-warning -a "$REDIS_PASSWORD" ping | grep -q PONG'] }, periodSeconds: 5 },
    volumeMounts: [{ name: 'data', mountPath: spec.mountPath }],
  };
  const objects: KubeObject[] = [
    new Secret({ metadata: meta(credentialsSecret), type: 'Opaque', stringData: secretData }),
    new Service({ metadata: meta(name), spec: { clusterIP: 'None', selector, ports: [{ name: engine, port: spec.port, targetPort: engine }] } }),
    new StatefulSet({
      metadata: meta(name),
      spec: {
        serviceName: name,
        replicas: 1,
        selector: { matchLabels: selector },
        template: { metadata: { labels: { ...labels, ...selector } }, spec: { ...POD_SECURITY, containers: [container] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    }),
  ];
  const auth = `${encodeURIComponent(user)}:${encodeURIComponent(password)}@`;
  return {
    objects,
    credentials: { protocol: spec.protocol, hostname: name, port: spec.port, username: user, password, database, url: `${spec.scheme}://${auth}${name}:${spec.port}/${database}` },
  };
}

/**
 * The app's services on a cluster: the same variable names the app gets
 * locally (serviceEnvironment), from credentials of servers outside the
 * cluster (--set, else placeholders), or of servers the export adds
 * (--services managed). Files (sqlite, filesystem) go on a volume claim.
 */
export function exportServices(manifest: ResolvedManifest, options: ServiceExportOptions, namespace: string | undefined): ServicesExport {
  const app = manifest.application.name;
  const out: ServicesExport = { objects: [], secrets: [], config: {}, volumes: [], notes: [] };
  for (const name of Object.keys(options.set)) {
    if (!manifest.services.some((service) => service.name === name)) {
      throw new PaasmakerError('USAGE', `--set ${name}.…: the app has no service "${name}"`, { hint: manifest.services.length > 0 ? `its services: ${manifest.services.map((service) => service.name).join(', ')}` : 'the manifest declares no services' });
    }
  }
  const provisioned: ProvisionedService[] = [];
  const perService = manifest.services.map((service) => ({ service, plugin: builtInPlugin(service, options.config) }));
  for (const { service, plugin } of perService) {
    const given = options.set[service.name] ?? {};
    const kind: ServiceKind = KINDS[plugin] ?? 'values';
    let credentials: Credentials;
    if (plugin === 'postgres' || plugin === 'mysql' || plugin === 'redis') {
      if (options.services === 'managed' && Object.keys(given).length === 0) {
        const server = managedServer(plugin, app, service.name, options.password, namespace);
        out.objects.push(...server.objects);
        credentials = server.credentials;
      } else {
        const external = externalCredentials(plugin, service.name, given);
        credentials = external.credentials;
        if (external.missing.length > 0) out.notes.push(`service ${service.name}: fill the REPLACE-ME values of Secret ${kubeName(63, app, service.name, 'env')} (or export again with --set ${service.name}.url=…${options.services === 'managed' ? '' : ', or --services managed'})`);
      }
    } else if (plugin === 'sqlite' || plugin === 'filesystem') {
      const claim = kubeName(63, app, service.name);
      const mountPath = `${DATA_ROOT}/${service.name}`;
      const path = plugin === 'sqlite' ? `${mountPath}/${service.name}.sqlite` : mountPath;
      out.objects.push(
        new PersistentVolumeClaim({
          metadata: { name: claim, ...(namespace ? { namespace } : {}), labels: standardLabels(app, service.name) },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        }),
      );
      out.volumes.push({ service: service.name, claim, mountPath });
      credentials = plugin === 'sqlite' ? { protocol: 'sqlite', path, database: path, url: `sqlite://${path}` } : { protocol: 'file', path };
    } else if (plugin === 'parameters') {
      credentials = { protocol: 'parameters', values: { ...parameterValues(service.options), ...given } };
    } else {
      // mail and plugin packages' services: what they hand an app is theirs to say.
      const what = plugin === 'mail' ? 'an SMTP server' : `a "${service.plugin}" service`;
      const parts = givenParts(service.name, given);
      credentials = {
        protocol: plugin === 'mail' ? 'smtp' : service.plugin,
        hostname: parts.host ?? placeholder(`${service.name} host`),
        ...(parts.port === undefined && plugin !== 'mail' ? {} : { port: Number(parts.port ?? 587) }),
        username: parts.user ?? placeholder(`${service.name} user`),
        password: parts.password ?? placeholder(`${service.name} password`),
        url: given.url ?? placeholder(`URL of ${service.name}`),
      };
      if (!given.url) out.notes.push(`service ${service.name}: ${what} has no cluster counterpart the export makes; fill the REPLACE-ME values of Secret ${kubeName(63, app, service.name, 'env')} (or --set ${service.name}.url=…)`);
    }
    provisioned.push({ name: service.name, symbolic: service.plugin, plugin, kind, ...(plugin === 'mail' ? { urlVariable: 'MAIL_URL' } : {}), branch: '', credentials });
  }

  // Each service's own <NAME>_… variables in a Secret of its own (a parameters service's in the ConfigMap); what several share (DATABASE_URL, PM_SERVICES, …) in the app's.
  const all = serviceEnvironment(app, provisioned, manifest.application.workspace ?? 'default');
  const metadata = JSON.parse(all.PM_METADATA!) as { node: { name: string } };
  metadata.node.name = 'kubernetes';
  all.PM_METADATA = JSON.stringify(metadata);
  const claimed = new Set<string>();
  for (const service of provisioned) {
    const prefix = `${envName(service.name)}_`;
    const own = Object.fromEntries(Object.entries(all).filter(([key]) => key.startsWith(prefix) && !claimed.has(key)));
    for (const key of Object.keys(own)) claimed.add(key);
    if (service.kind === 'values') {
      Object.assign(out.config, own);
      continue;
    }
    const secret = kubeName(63, app, service.name, 'env');
    out.objects.push(new Secret({ metadata: { name: secret, ...(namespace ? { namespace } : {}), labels: standardLabels(app, service.name) }, type: 'Opaque', stringData: own }));
    out.secrets.push(secret);
  }
  const shared = Object.fromEntries(Object.entries(all).filter(([key]) => !claimed.has(key)));
  const sharedName = kubeName(63, app, 'services');
  out.objects.push(new Secret({ metadata: { name: sharedName, ...(namespace ? { namespace } : {}), labels: standardLabels(app, 'services') }, type: 'Opaque', stringData: shared }));
  out.secrets.push(sharedName);
  return out;
}
