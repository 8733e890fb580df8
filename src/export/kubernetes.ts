import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments, stringify } from 'yaml';
import { routedHostname } from '../engine/routes.js';
import type { PlatformConfig } from '../services/config.js';
import type { ResolvedInstance, ResolvedManifest } from '../shared/manifest.js';
import { isSecret } from '../services/environment.js';
import { newPassword } from '../services/names.js';
import { PaasmakerError } from '../shared/errors.js';
import { bindsLoopback, CONTAINER_HOST, imagePlans, launchCommand, loopbackWarning, type ImagePlan } from './images.js';
import { exportServices, kubeName, podLabels, POD_SECURITY, selectorLabels, standardLabels, type KubeObject, type ServicesExport } from './kubernetes-services.js';

export type { KubeObject } from './kubernetes-services.js';

/** The port every routed container listens on ($PORT). */
export const CONTAINER_PORT = 8080;
/** The image a uri cron's request runs in. */
export const CURL_IMAGE = 'curlimages/curl:8.8.0';

export interface KubernetesOptions {
  namespace?: string;
  /** --image INSTANCE=IMAGE */
  images: Record<string, string>;
  registry?: string;
  /** --domain: the routed instance also answers <app>.<domain>. */
  domain?: string;
  services: 'external' | 'managed';
  /** --set SERVICE.KEY=VALUE */
  set: Record<string, Record<string, string>>;
  /** A managed server's password by its credentials Secret's name (default: a new random one). */
  password?: (secret: string) => string;
  /** $PAASMAKER_HOME/config.yml: the plugins of its symbolic service names. */
  config?: PlatformConfig;
  /** Where the Dockerfiles are written, from the project folder, as the build lines name them (default "."). */
  dockerfiles?: string;
}

export interface KubernetesExport {
  /** Validated objects, in the order they are written. */
  objects: KubeObject[];
  images: ImagePlan[];
  /** Lines for the user (stderr): placeholders to fill, limits. */
  notes: string[];
  /** What likely breaks in a pod (a command listening on loopback), for stderr. */
  warnings: string[];
}

/** Why a Deployment runs one replica whatever its quantity. */
const SINGLE_REPLICA = 'paasmaker.io/single-replica';

/**
 * The app as Kubernetes objects: per instance type a Deployment (a Job for a
 * one-shot), a Service for a routed one, one Ingress, CronJobs for its crons,
 * and its services' Secrets, servers and volume claims. Each object is
 * validated against the Kubernetes schema; an invalid one is refused.
 */
export function exportKubernetes(manifest: ResolvedManifest, options: KubernetesOptions): KubernetesExport {
  const app = manifest.application.name;
  const namespace = options.namespace;
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    throw new PaasmakerError('USAGE', `--namespace ${namespace} is not a Kubernetes namespace name`, { hint: 'lowercase letters, digits and "-", at most 63 characters' });
  }
  for (const name of Object.keys(options.images)) {
    if (!manifest.instances.some((instance) => instance.name === name)) {
      throw new PaasmakerError('USAGE', `--image ${name}=…: the app has no instance type "${name}"`, { hint: `its instance types: ${manifest.instances.map((instance) => instance.name).join(', ')}` });
    }
  }
  const images = imagePlans(manifest, { images: options.images, registry: options.registry, directory: options.dockerfiles });
  const imageOf = (instance: ResolvedInstance) => images.find((plan) => plan.instance === instance.name)!.image;
  const meta = (name: string, component: string, annotations?: Record<string, string>) => ({
    name,
    ...(namespace ? { namespace } : {}),
    labels: standardLabels(app, component),
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  });
  const services = exportServices(manifest, { services: options.services, set: options.set, password: options.password ?? (() => newPassword()), config: options.config }, namespace);
  const notes = [...services.notes];
  const warnings: string[] = [];
  const objects: KubeObject[] = [];
  if (namespace) objects.push(new Namespace({ metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'paasmaker' } } }));

  // The project's .env as locally (services replace its stale DATABASE_URL): secret-looking values in a Secret.
  const serviceKeys = new Set(services.objects.flatMap((object) => (object instanceof Secret && services.secrets.includes(object.metadata!.name!) ? Object.keys(object.stringData ?? {}) : [])));
  const dotenv = Object.entries(manifest.dotenv.values).filter(([key]) => !serviceKeys.has(key) && !(key in services.config));
  const dotenvSecret = Object.fromEntries(dotenv.filter(([key, value]) => isSecret(key, value)));
  const dotenvPlain = Object.fromEntries(dotenv.filter(([key, value]) => !isSecret(key, value)));
  const secrets = [...services.secrets];
  if (Object.keys(dotenvSecret).length > 0) {
    const name = kubeName(63, app, 'dotenv');
    objects.push(new Secret({ metadata: meta(name, 'dotenv'), type: 'Opaque', stringData: dotenvSecret }));
    secrets.unshift(name);
  }
  objects.push(...services.objects);

  const limited = services.volumes.length > 0;
  if (limited) {
    const many = manifest.instances.filter((instance) => instance.quantity > 1 && !instance.oneshot);
    const why = `${services.volumes.map((volume) => volume.service).join(', ')} keep${services.volumes.length === 1 ? 's' : ''} data in files on a ReadWriteOnce volume`;
    notes.push(
      `${why}: every instance type runs one replica${many.length > 0 ? ` (${many.map((instance) => `${instance.name} asks for ${instance.quantity}`).join(', ')})` : ''}, and pods that mount the volume must run on one node; use a database server (postgres, mysql) to run more`,
    );
  }

  const routed = manifest.instances.filter((instance) => !instance.standalone && !instance.oneshot);
  const main = routed.find((instance) => instance.name === 'web') ?? routed[0];
  const rules: Array<{ host: string; service: string }> = [];

  for (const instance of manifest.instances) {
    const name = kubeName(63, app, instance.name);
    const isRouted = !instance.standalone && !instance.oneshot;
    const plan = images.find((candidate) => candidate.instance === instance.name)!;
    const config: Record<string, string> = { ...dotenvPlain, ...services.config, ...instance.environment, PAASMAKER_APP: app };
    if (isRouted) {
      // HOST: where the app listens, as the platform gives it locally (127.0.0.1), here every address of the pod.
      Object.assign(config, { PORT: String(CONTAINER_PORT), PM_PORT: String(CONTAINER_PORT), HOST: CONTAINER_HOST });
      const listens = plan.dockerfile ? launchCommand(manifest, instance) : instance.command;
      if (listens !== undefined && bindsLoopback(listens)) warnings.push(loopbackWarning(instance.name, listens));
    }
    const configName = `${name}-env`;
    objects.push(new ConfigMap({ metadata: meta(configName, instance.name), data: config }));
    const envFrom = [...secrets.map((secret) => ({ secretRef: { name: secret } })), { configMapRef: { name: configName } }];
    const volumeMounts = services.volumes.map((volume) => ({ name: kubeName(63, 'data', volume.service), mountPath: volume.mountPath }));
    const volumes = services.volumes.map((volume) => ({ name: kubeName(63, 'data', volume.service), persistentVolumeClaim: { claimName: volume.claim } }));
    const selector = selectorLabels(app, 'instance', instance.name);
    const labels = podLabels(app, instance.name, 'instance', instance.name);
    const nodeSelector = Object.keys(instance.placement.tags).length > 0 ? { nodeSelector: instance.placement.tags } : {};
    const spread = instance.placement.spread
      ? { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' as const, labelSelector: { matchLabels: selector } }] }
      : {};
    const shell = (command: string) => ['/bin/sh', '-c', command];
    // An image built here and named without a registry is one to load into the cluster's nodes (kind load, minikube image load): never pulled when present.
    const pull = plan.dockerfile && !options.registry ? { imagePullPolicy: 'IfNotPresent' as const } : {};
    const base = { image: imageOf(instance), ...pull, envFrom, ...(volumeMounts.length > 0 ? { volumeMounts } : {}), securityContext: { allowPrivilegeEscalation: false } };
    const initContainers = instance.startup.length > 0 ? [{ name: 'startup', ...base, command: shell(instance.startup.join(' && ')) }] : [];
    // What every pod of the instance type's image has; a cron's pods run its command alone, without startup or spreading.
    const podBase = { ...POD_SECURITY, ...nodeSelector, terminationGracePeriodSeconds: Math.ceil(instance.stopTimeout), ...(volumes.length > 0 ? { volumes } : {}) };
    const podSpec = { ...(initContainers.length > 0 ? { initContainers } : {}), ...podBase, ...spread };
    const launch = instance.command === undefined ? {} : { command: shell(instance.command) };

    if (instance.oneshot) {
      objects.push(
        new Job({
          metadata: meta(name, instance.name),
          spec: {
            backoffLimit: instance.restart === 'never' ? 0 : (instance.maxRestarts ?? 6),
            template: { metadata: { labels }, spec: { ...podSpec, restartPolicy: instance.restart === 'never' ? 'Never' : 'OnFailure', containers: [{ name: kubeName(63, instance.name), ...base, ...launch }] } },
          },
        }),
      );
    } else {
      const check = instance.health.path === undefined ? { tcpSocket: { port: 'http' } } : { httpGet: { path: instance.health.path, port: 'http' } };
      const probes = isRouted
        ? {
            ports: [{ name: 'http', containerPort: CONTAINER_PORT }],
            startupProbe: { ...check, periodSeconds: 1, failureThreshold: Math.max(1, Math.ceil(instance.health.timeout)) },
            readinessProbe: { ...check, periodSeconds: Math.max(1, Math.min(10, Math.round(instance.health.interval))) },
            livenessProbe: { ...check, periodSeconds: Math.max(1, Math.round(instance.health.interval)), failureThreshold: instance.health.failures },
          }
        : {};
      const replicas = limited ? 1 : instance.quantity;
      const annotations = limited && instance.quantity > 1 ? { [SINGLE_REPLICA]: `quantity ${instance.quantity} limited to 1: ${services.volumes.map((volume) => volume.service).join(', ')} keep data in files on a ReadWriteOnce volume` } : undefined;
      objects.push(
        new Deployment({
          metadata: meta(name, instance.name, annotations),
          spec: {
            replicas,
            ...(limited ? { strategy: { type: 'Recreate' } } : {}),
            selector: { matchLabels: selector },
            template: { metadata: { labels }, spec: { ...podSpec, containers: [{ name: kubeName(63, instance.name), ...base, ...launch, ...probes }] } },
          },
        }),
      );
      if (isRouted) {
        objects.push(new Service({ metadata: meta(name, instance.name), spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }));
        for (const host of instance.hostnames) rules.push({ host, service: name });
        if (options.domain && instance === main) rules.push({ host: `${app}.${options.domain.replace(/^\.+|\.+$/g, '')}`, service: name });
      }
    }

    for (const cron of instance.crons) {
      const fields = cron.schedule.trim().split(/\s+/);
      const schedule = fields.length === 6 ? fields.slice(1).join(' ') : cron.schedule;
      if (fields.length === 6) {
        // A CronJob has minute resolution: round down to the start of each minute the schedule names.
        const second = /^\d+$/.test(fields[0]!) ? Number(fields[0]) : undefined;
        warnings.push(
          `cron ${cron.name}: a CronJob runs by the minute, so "${cron.schedule}" runs as "${schedule}": ${second === undefined ? `once a minute where the seconds field "${fields[0]}" ran it more often` : second === 0 ? 'the same times' : `${second} s earlier than locally`}`,
        );
      }
      // Kubernetes reads the standard five fields; the last day (L), nearest weekday (W) and nth weekday (#) are the scheduler's here only.
      const [, , dayOfMonth = '', , dayOfWeek = ''] = schedule.split(' ');
      if (/(^|,)(L|LW|\d+W)(,|$)/i.test(dayOfMonth) || /#|\dL(,|$)|^L$/i.test(dayOfWeek)) {
        warnings.push(`cron ${cron.name}: "${schedule}" uses L, W or #, which a Kubernetes CronJob does not take: the API server will refuse the CronJob ${kubeName(52, app, cron.name)} until its schedule is rewritten`);
      }
      if (cron.uri !== undefined && !isRouted) {
        notes.push(`cron ${cron.name}: ${instance.name} is not routed, so its request to ${cron.uri} has no Service to go to; left out`);
        continue;
      }
      // The request a browser would make (locally: through the router, with the app's name): the Host of the instance type's first hostname.
      const host = instance.hostnames[0] ?? (options.domain && instance === main ? `${app}.${options.domain.replace(/^\.+|\.+$/g, '')}` : routedHostname(manifest, instance.name));
      const container =
        cron.uri !== undefined
          ? {
              name: 'request',
              image: CURL_IMAGE,
              command: ['curl', '--fail', '--silent', '--show-error', '--max-time', '300', '--user-agent', 'paasmaker-cron', '--header', `Host: ${host}`, `http://${name}${cron.uri}`],
              securityContext: { allowPrivilegeEscalation: false },
            }
          : { name: kubeName(63, instance.name), ...base, command: shell(cron.command!) };
      const cronSpec = cron.uri !== undefined ? { ...POD_SECURITY, restartPolicy: 'Never' as const } : { ...podBase, restartPolicy: 'Never' as const };
      objects.push(
        new CronJob({
          metadata: meta(kubeName(52, app, cron.name), instance.name),
          spec: {
            schedule,
            concurrencyPolicy: 'Forbid',
            jobTemplate: { spec: { backoffLimit: 0, template: { metadata: { labels: podLabels(app, instance.name, 'cron', cron.name) }, spec: { ...cronSpec, containers: [container] } } } },
          },
        }),
      );
    }
  }

  if (rules.length > 0) {
    const byHost = [...new Map(rules.map((rule) => [rule.host, rule])).values()];
    objects.push(
      new Ingress({
        metadata: meta(kubeName(63, app), 'ingress'),
        spec: { rules: byHost.map((rule) => ({ host: rule.host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: rule.service, port: { name: 'http' } } } }] } })) },
      }),
    );
  } else if (routed.length > 0) {
    notes.push(`no Ingress: ${routed.map((instance) => instance.name).join(', ')} ${routed.length === 1 ? 'has' : 'have'} no hostnames; give --domain DOMAIN to route ${app}.DOMAIN`);
  }

  for (const object of objects) {
    try {
      object.validate();
    } catch (error) {
      throw new PaasmakerError('MANIFEST_INVALID', `the ${object.kind} ${object.metadata?.name} the export made is not valid Kubernetes: ${(error as Error).message}`, { hint: 'a value in the manifest cannot be written as Kubernetes; please report it' });
    }
  }
  return { objects, images, notes, warnings };
}

/**
 * Multi-document YAML of the objects, in order, without timestamps: it diffs
 * well in git. Written as YAML 1.1, which kubectl reads: a value such as
 * "on", "yes" or "12:30" is quoted, never read back as a boolean or a number.
 * `comments` go in the header.
 */
export function kubernetesYaml(manifest: ResolvedManifest, objects: readonly KubeObject[], comments: readonly string[] = []): string {
  const header = [`# ${manifest.application.name}: written by paasmaker export kubernetes from ${manifest.kind}; edit the manifest and export again`, ...comments.map((comment) => `# ${comment}`), ''].join('\n');
  return header + objects.map((object) => `---\n${stringify(object.toJSON(), { lineWidth: 0, version: '1.1' })}`).join('');
}

/** Servers and files of services, for callers that want the services alone. */
export type { ServicesExport };

/** The documents of a multi-document YAML file (an earlier export), as plain values. */
export function yamlDocuments(text: string): unknown[] {
  return parseAllDocuments(text).map((document) => document.toJS() as unknown);
}
