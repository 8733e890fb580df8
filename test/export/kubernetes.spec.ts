import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { exportKubernetes, kubernetesYaml, type KubeObject, type KubernetesOptions } from '../../src/export/kubernetes.js';
import { loadManifest } from '../../src/manifest/index.js';
import { examples, runCli, tempHome } from '../helpers/cli.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function project(files: Record<string, string>): string {
  const dir = scratch('pm-k8s-');
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

function home(): string {
  const { home: dir, cleanup } = tempHome();
  cleanups.push(cleanup);
  return dir;
}

const OPTIONS: KubernetesOptions = { images: {}, services: 'external', set: {}, password: () => 'fixed-password' };

// Every kind the export writes, to read a written file back into typed, validated objects.
const MODELS: Record<string, new (data: never) => KubeObject> = { Deployment, StatefulSet, CronJob, Job, Ingress, ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } as never;

/** The objects of a written YAML stream, each validated against the Kubernetes schema. */
function readBack(text: string): Array<Record<string, any>> {
  return parseAllDocuments(text).map((document) => {
    const data = document.toJS() as Record<string, any>;
    const Model = MODELS[data.kind];
    expect(Model, `a ${data.kind} the test knows`).toBeDefined();
    new Model(data as never).validate();
    return data;
  });
}

const find = (objects: KubeObject[], kind: string, name: string): Record<string, any> => {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  expect(found, `${kind} ${name} in ${objects.map((object) => `${object.kind}/${object.metadata?.name}`).join(', ')}`).toBeDefined();
  return found!.toJSON() as Record<string, any>;
};

/** The variables a Deployment's (or a pod's) container gets: its envFrom's ConfigMap data and Secrets' stringData, and its env. */
function containerVariables(objects: KubeObject[], container: Record<string, any>): string[] {
  const keys = new Set<string>();
  for (const from of container.envFrom ?? []) {
    const source = from.configMapRef ? find(objects, 'ConfigMap', from.configMapRef.name).data : find(objects, 'Secret', from.secretRef.name).stringData;
    for (const key of Object.keys(source ?? {})) keys.add(key);
  }
  for (const variable of container.env ?? []) keys.add(variable.name);
  return [...keys].sort();
}

const EVERYTHING = `application:
  name: shop
instances:
  web:
    command: node server.js
    quantity: 3
    hostnames: [shop.example.com, www.shop.example.com]
    startup: [node migrate.js, node seed.js]
    environment: {GREETING: hello}
    health: {path: /healthz, timeout: 30, interval: 10, failures: 4}
    stop_timeout: 12
    placement: {tags: {disk: ssd, topology.kubernetes.io/zone: eu-west-1a}, spread: true}
    crons:
      - {name: cleanup, schedule: "*/5 * * * *", uri: /tasks/cleanup}
      - {name: report, schedule: "0 3 * * *", command: node report.js}
  api:
    command: node api.js
    quantity: 2
  worker:
    command: node worker.js
    standalone: true
    quantity: 2
    placement: {tags: {pool: batch}}
    crons:
      - {name: tick, schedule: "30 */5 * * * *", command: node tick.js}
  migrate:
    command: node migrate.js
    oneshot: true
services:
  db: postgres
  cache: redis
  files: sqlite
  flags:
    plugin: parameters
    beta: "on"
`;

describe('paasmaker export kubernetes: objects', () => {
  it('exports every example, each object valid, with external and managed services', () => {
    const names = readdirSync(examples).filter((name) => ['paasmaker.yml', 'manifest.yml', 'Procfile'].some((file) => existsSync(join(examples, name, file))));
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) {
      const manifest = loadManifest(join(examples, name));
      for (const services of ['external', 'managed'] as const) {
        const result = exportKubernetes(manifest, { ...OPTIONS, services, domain: 'example.com' });
        for (const object of result.objects) expect(() => object.validate(), `${name}: ${object.kind}/${object.metadata?.name}`).not.toThrow();
        const routed = manifest.instances.filter((instance) => !instance.standalone && !instance.oneshot);
        for (const instance of routed) find(result.objects, 'Deployment', `${manifest.application.name}-${instance.name}`.replace(/_/g, '-'));
        if (routed.length > 0) expect(find(result.objects, 'Ingress', manifest.application.name).spec.rules.map((rule: { host: string }) => rule.host)).toContain(`${manifest.application.name}.example.com`);
      }
    }
  });

  it('exports a manifest with every feature: replicas, probes, init containers, placement, crons, services', () => {
    const manifest = loadManifest(project({ 'paasmaker.yml': EVERYTHING }));
    const { objects, notes, warnings } = exportKubernetes(manifest, { ...OPTIONS, services: 'managed', namespace: 'shop-prod', domain: 'apps.example.com' });
    for (const object of objects) {
      object.validate();
      if (object.kind !== 'Namespace') expect(object.metadata?.namespace).toBe('shop-prod');
    }
    const web = find(objects, 'Deployment', 'shop-web');
    expect(web.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'shop', 'app.kubernetes.io/component': 'web', 'app.kubernetes.io/managed-by': 'paasmaker' });
    // sqlite keeps its data in a file on one volume: one replica, said where the user looks.
    expect(web.spec.replicas).toBe(1);
    expect(web.metadata.annotations['paasmaker.io/single-replica']).toMatch(/quantity 3 limited to 1: files/);
    expect(notes.join('\n')).toMatch(/files keeps data in files on a ReadWriteOnce volume: every instance type runs one replica \(web asks for 3, api asks for 2, worker asks for 2\), and pods that mount the volume must run on one node/);
    const pod = web.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ disk: 'ssd', 'topology.kubernetes.io/zone': 'eu-west-1a' });
    expect(pod.topologySpreadConstraints).toEqual([{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: web.spec.selector.matchLabels } }]);
    expect(pod.terminationGracePeriodSeconds).toBe(12);
    expect(pod.initContainers).toEqual([expect.objectContaining({ name: 'startup', image: 'shop-web:latest', command: ['/bin/sh', '-c', 'node migrate.js && node seed.js'] })]);
    const [container] = pod.containers;
    expect(container.command).toEqual(['/bin/sh', '-c', 'node server.js']);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 4 });
    expect(container.startupProbe).toMatchObject({ failureThreshold: 30, periodSeconds: 1 });
    expect(container.volumeMounts).toEqual([{ name: 'data-files', mountPath: '/var/lib/paasmaker/files' }]);
    // HOST: the app listens on the pod's addresses, where locally the platform gives loopback.
    expect(find(objects, 'ConfigMap', 'shop-web-env').data).toMatchObject({ GREETING: 'hello', PORT: '8080', HOST: '0.0.0.0', PAASMAKER_APP: 'shop', FLAGS_BETA: 'on' });
    expect(find(objects, 'ConfigMap', 'shop-worker-env').data.HOST).toBeUndefined();
    // No health path: a TCP check.
    expect(find(objects, 'Deployment', 'shop-api').spec.template.spec.containers[0].readinessProbe.tcpSocket).toEqual({ port: 'http' });

    // A worker: no port, no probes, no Service; its own placement.
    const worker = find(objects, 'Deployment', 'shop-worker');
    expect(worker.spec.template.spec.containers[0].ports).toBeUndefined();
    expect(worker.spec.template.spec.containers[0].readinessProbe).toBeUndefined();
    expect(worker.spec.template.spec.nodeSelector).toEqual({ pool: 'batch' });
    expect(objects.some((object) => object.kind === 'Service' && object.metadata?.name === 'shop-worker')).toBe(false);
    // A one-shot: a Job.
    expect(find(objects, 'Job', 'shop-migrate').spec.template.spec.restartPolicy).toBe('Never');

    // Crons: Forbid as locally; a uri cron is a request to the Service, a command cron runs in the app's image.
    const cleanup = find(objects, 'CronJob', 'shop-cleanup');
    expect(cleanup.spec).toMatchObject({ schedule: '*/5 * * * *', concurrencyPolicy: 'Forbid' });
    // The request carries the Host a browser's would (the instance type's first hostname), as locally through the router.
    expect(cleanup.spec.jobTemplate.spec.template.spec.containers[0].command.slice(-3)).toEqual(['--header', 'Host: shop.example.com', 'http://shop-web/tasks/cleanup']);
    const report = find(objects, 'CronJob', 'shop-report');
    expect(report.spec.concurrencyPolicy).toBe('Forbid');
    expect(report.spec.jobTemplate.spec.template.spec.containers[0]).toMatchObject({ image: 'shop-web:latest', command: ['/bin/sh', '-c', 'node report.js'] });
    // A cron runs its command alone: not the instance type's startup (migrations) first, on every run.
    expect(report.spec.jobTemplate.spec.template.spec.initContainers).toBeUndefined();
    // Its pods are not the web's: neither the Service nor the Deployment selects them.
    const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);
    const webService = find(objects, 'Service', 'shop-web').spec.selector;
    expect(selects(webService, web.spec.template.metadata.labels)).toBe(true);
    expect(selects(web.spec.selector.matchLabels, web.spec.template.metadata.labels)).toBe(true);
    for (const cron of [cleanup, report]) {
      expect(selects(webService, cron.spec.jobTemplate.spec.template.metadata.labels)).toBe(false);
      expect(selects(web.spec.selector.matchLabels, cron.spec.jobTemplate.spec.template.metadata.labels)).toBe(false);
    }
    // Seconds: a CronJob has minute resolution, said rather than dropped in silence.
    expect(find(objects, 'CronJob', 'shop-tick').spec.schedule).toBe('*/5 * * * *');
    expect(warnings).toContain('cron tick: a CronJob runs by the minute, so "30 */5 * * * *" runs as "*/5 * * * *": 30 s earlier than locally');

    // Routing: the manifest's hostnames and <app>.<domain>.
    expect(find(objects, 'Ingress', 'shop').spec.rules.map((rule: { host: string }) => rule.host)).toEqual(['shop.example.com', 'www.shop.example.com', 'shop.apps.example.com']);

    // Managed servers, wired to the in-cluster names, credentials from one Secret.
    expect(find(objects, 'StatefulSet', 'shop-db').spec.template.spec.containers[0].image).toBe('postgres:15');
    expect(find(objects, 'StatefulSet', 'shop-cache').spec.template.spec.containers[0].image).toBe('redis:7');
    expect(find(objects, 'Service', 'shop-db').spec.clusterIP).toBe('None');
    expect(find(objects, 'Secret', 'shop-db-env').stringData).toMatchObject({ DB_HOST: 'shop-db', DB_PORT: '5432', DB_PASSWORD: 'fixed-password' });
    expect(find(objects, 'Secret', 'shop-services').stringData.DATABASE_URL).toBe('postgresql://shop:fixed-password@shop-db:5432/shop');
    expect(find(objects, 'Secret', 'shop-services').stringData.REDIS_URL).toBe('redis://default:fixed-password@shop-cache:6379/0');
    expect(find(objects, 'Secret', 'shop-files-env').stringData.FILES_PATH).toBe('/var/lib/paasmaker/files/files.sqlite');
    expect(find(objects, 'PersistentVolumeClaim', 'shop-files').spec.accessModes).toEqual(['ReadWriteOnce']);
  });

  it('leaves marked placeholders for external services, and takes --set values', () => {
    const manifest = loadManifest(project({ 'paasmaker.yml': EVERYTHING }));
    const placeholders = exportKubernetes(manifest, OPTIONS);
    const db = find(placeholders.objects, 'Secret', 'shop-db-env').stringData;
    expect(db.DB_HOST).toBe('REPLACE-ME: db host');
    expect(db.DB_URL).toMatch(/^REPLACE-ME: /);
    expect(placeholders.notes.join('\n')).toMatch(/service db: fill the REPLACE-ME values of Secret shop-db-env/);
    expect(placeholders.objects.some((object) => object.kind === 'StatefulSet')).toBe(false);
    const given = exportKubernetes(manifest, { ...OPTIONS, set: { db: { url: 'postgresql://shop:s3cret@db.internal:5433/shopdb' } } });
    expect(find(given.objects, 'Secret', 'shop-db-env').stringData).toMatchObject({ DB_HOST: 'db.internal', DB_PORT: '5433', DB_USER: 'shop', DB_PASSWORD: 's3cret', DB_DATABASE: 'shopdb' });
    expect(find(given.objects, 'Secret', 'shop-services').stringData.DATABASE_URL).toBe('postgresql://shop:s3cret@db.internal:5433/shopdb');
  });

  it("gives the original's format-1 tags as a nodeSelector", () => {
    const dir = project({
      'manifest.yml': `manifest:
  format: 1
application:
  name: tornado-simple
  tags:
    tag: value
instances:
  - name: web
    quantity: 2
    runtime:
      plugin: paasmaker.runtime.shell
      parameters:
        launch_command: "python app.py --port=%(port)d"
    hostnames: [tornado-simple.local.paasmaker.net]
    tags:
      disk: ssd
`,
    });
    const manifest = loadManifest(dir);
    expect(manifest.instances[0]!.placement).toEqual({ tags: { tag: 'value', disk: 'ssd' }, spread: false });
    const web = find(exportKubernetes(manifest, OPTIONS).objects, 'Deployment', 'tornado-simple-web');
    expect(web.spec.replicas).toBe(2);
    expect(web.spec.template.spec.nodeSelector).toEqual({ tag: 'value', disk: 'ssd' });
    expect(web.spec.template.spec.containers[0].command).toEqual(['/bin/sh', '-c', 'python app.py --port=$PORT']);
  });

  it('warns of a command that listens on loopback, which nothing outside a pod reaches, and exports it still', () => {
    const commands: Record<string, boolean> = {
      'bundle exec rackup -p $PORT -o 127.0.0.1': true,
      'gunicorn -b 127.0.0.1:$PORT app:app': true,
      'uvicorn app:app --host localhost --port $PORT': true,
      'node server.js --listen=localhost:8080': true,
      'bundle exec rackup -p $PORT -o $HOST': false,
      'python3 app.py --bind "${HOST:-127.0.0.1}"': false,
      'node server.js': false,
    };
    for (const [command, warned] of Object.entries(commands)) {
      const dir = project({ 'paasmaker.yml': `application:\n  name: loop\ninstances:\n  web:\n    command: '${command}'\n  worker:\n    command: node worker.js --redis localhost:6379\n    standalone: true\n` });
      const { warnings, objects } = exportKubernetes(loadManifest(dir), OPTIONS);
      expect(warnings, command).toEqual(warned ? [`instances.web listens on loopback in its command (${command}): in a container nothing outside reaches it; listen on $HOST (the export sets HOST=0.0.0.0) or on 0.0.0.0`] : []);
      find(objects, 'Deployment', 'loop-web');
    }
  });

  it("warns of a cron schedule a CronJob cannot take (last day, nearest weekday, nth weekday)", () => {
    const dir = project({ 'paasmaker.yml': 'application:\n  name: sched\ninstances:\n  web:\n    command: node s.js\n    crons:\n      - {name: month-end, schedule: "0 23 L * *", command: node close.js}\n      - {name: second-friday, schedule: "0 9 * * 5#2", command: node meet.js}\n      - {name: nightly, schedule: "0 3 * * MON-FRI", command: node n.js}\n' });
    const { warnings, objects } = exportKubernetes(loadManifest(dir), OPTIONS);
    expect(warnings).toEqual([
      'cron month-end: "0 23 L * *" uses L, W or #, which a Kubernetes CronJob does not take: the API server will refuse the CronJob sched-month-end until its schedule is rewritten',
      'cron second-friday: "0 9 * * 5#2" uses L, W or #, which a Kubernetes CronJob does not take: the API server will refuse the CronJob sched-second-friday until its schedule is rewritten',
    ]);
    expect(find(objects, 'CronJob', 'sched-nightly').spec.schedule).toBe('0 3 * * MON-FRI');
  });

  it('points at a placement tag a cluster cannot take', () => {
    const dir = project({ 'paasmaker.yml': 'application:\n  name: bad\ninstances:\n  web:\n    command: node s.js\n    placement:\n      tags: {disk: "fast ssd"}\n' });
    expect(() => loadManifest(dir)).toThrow(/paasmaker\.yml:7:\d+: .*must be a node label value/);
    const typo = project({ 'paasmaker.yml': 'application:\n  name: bad\ninstances:\n  web:\n    command: node s.js\n    placement:\n      spred: true\n' });
    expect(() => loadManifest(typo)).toThrow(/paasmaker\.yml:7:\d+: .*spred.*did you mean "spread"/);
  });
});

// The YAML as a reader sees it, reviewed by eye: a change to it shows in the diff of these files.
// The managed servers' passwords are fixed ones (the CLI's are random, or kept from the file it replaces).
describe('paasmaker export kubernetes: snapshots', () => {
  it('guestbook-pg with --services managed', async () => {
    const manifest = loadManifest(join(examples, 'guestbook-pg'));
    const { objects } = exportKubernetes(manifest, { ...OPTIONS, services: 'managed' });
    await expect(kubernetesYaml(manifest, objects)).toMatchFileSnapshot('__snapshots__/guestbook-pg.kubernetes.yaml');
  });

  it('a manifest with every feature, managed services, a namespace and a domain', async () => {
    const manifest = loadManifest(project({ 'paasmaker.yml': EVERYTHING }));
    const { objects } = exportKubernetes(manifest, { ...OPTIONS, services: 'managed', namespace: 'shop-prod', domain: 'apps.example.com', registry: 'ghcr.io/acme' });
    await expect(kubernetesYaml(manifest, objects)).toMatchFileSnapshot('__snapshots__/everything.kubernetes.yaml');
  });
});

describe('paasmaker export kubernetes: the command', () => {
  it('writes guestbook-pg with managed services to a folder: valid objects, a Dockerfile for node, the build lines', async () => {
    const out = join(scratch('pm-k8s-out-'), 'out');
    const result = await runCli(['export', 'kubernetes', join(examples, 'guestbook-pg'), '-o', `${out}/`, '--services', 'managed'], { home: home() });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(readdirSync(out).sort()).toEqual(['BUILD.md', 'Dockerfile', 'all.yaml', 'kustomization.yaml']);
    // It holds the generated database password: the owner's only.
    expect(statSync(join(out, 'all.yaml')).mode & 0o777).toBe(0o600);
    const objects = readBack(readFileSync(join(out, 'all.yaml'), 'utf8'));
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual(
      expect.arrayContaining(['StatefulSet/guestbook-pg-db', 'Service/guestbook-pg-db', 'Secret/guestbook-pg-db-credentials', 'Deployment/guestbook-pg-web', 'Service/guestbook-pg-web']),
    );
    const password = objects.find((object) => object.metadata.name === 'guestbook-pg-db-credentials')!.stringData.POSTGRES_PASSWORD as string;
    expect(password).toMatch(/^[0-9a-f]{32,}$/);
    expect(result.stderr).not.toContain(password);
    expect(readFileSync(join(out, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:\d+-slim$/m);
    expect(readFileSync(join(out, 'BUILD.md'), 'utf8')).toMatch(/docker build -f \S*\/Dockerfile -t guestbook-pg-web:latest \./);
    // Applied from the project folder the build lines run in.
    expect(readFileSync(join(out, 'BUILD.md'), 'utf8')).toContain(`kubectl apply -k ${relative(join(examples, 'guestbook-pg'), out)}\n`);
    expect(parseAllDocuments(readFileSync(join(out, 'kustomization.yaml'), 'utf8'))[0]!.toJS()).toEqual({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['all.yaml'] });

    // Exporting again over it keeps the database's password: the same file, byte for byte.
    const before = readFileSync(join(out, 'all.yaml'), 'utf8');
    const again = await runCli(['export', 'kubernetes', join(examples, 'guestbook-pg'), '-o', `${out}/`, '--services', 'managed'], { home: home() });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(readFileSync(join(out, 'all.yaml'), 'utf8')).toBe(before);
  });

  it('prints a warning, and still exports, for an instance type whose command listens on loopback', async () => {
    const dir = project({ 'paasmaker.yml': 'application:\n  name: loop\ninstances:\n  web:\n    command: gunicorn -b 127.0.0.1:$PORT app:app\n' });
    const out = join(scratch('pm-k8s-loop-'), 'out');
    const result = await runCli(['export', 'kubernetes', dir, '-o', `${out}/`], { home: home() });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('warning: instances.web listens on loopback in its command (gunicorn -b 127.0.0.1:$PORT app:app): in a container nothing outside reaches it; listen on $HOST');
    expect(readFileSync(join(out, 'BUILD.md'), 'utf8')).toContain('- instances.web listens on loopback');
    expect(readBack(readFileSync(join(out, 'all.yaml'), 'utf8')).some((object) => object.kind === 'Deployment')).toBe(true);
  });

  it('says on stdout that the managed servers\' passwords are new each time, and keeps them in a file it replaces', async () => {
    const pmHome = home();
    const args = ['export', 'kubernetes', join(examples, 'guestbook-pg'), '--services', 'managed'];
    const first = await runCli(args, { home: pmHome });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout.split('\n')[1]).toBe('# the passwords in guestbook-pg-db-credentials are new on every export to stdout; -o DIR or -o FILE keeps those of the file it replaces');
    const file = join(scratch('pm-k8s-keep-'), 'guestbook.yaml');
    expect((await runCli([...args, '-o', file], { home: pmHome })).exitCode).toBe(0);
    const written = readFileSync(file, 'utf8');
    expect(written).not.toContain('are new on every export');
    expect((await runCli([...args, '-o', file], { home: pmHome })).exitCode).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(written);
  });

  it('writes the same YAML twice (stdout), and lists the Dockerfiles it did not write', async () => {
    const dir = project({ 'paasmaker.yml': EVERYTHING });
    const pmHome = home();
    const args = ['export', 'kubernetes', dir, '--namespace', 'shop', '--registry', 'ghcr.io/acme', '--image', 'api=ghcr.io/acme/api:1.2', '--set', 'db.url=postgresql://u:p@db:5432/shop'];
    const first = await runCli(args, { home: pmHome });
    const second = await runCli(args, { home: pmHome });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(first.stdout).not.toMatch(/\d{4}-\d\d-\d\dT/);
    expect(first.stderr).toMatch(/not written \(give -o DIR to write them\): Dockerfile\.web, Dockerfile\.worker, Dockerfile\.migrate/);
    const objects = readBack(first.stdout);
    expect(objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'shop' } });
    expect(objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'shop-api')!.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/api:1.2');
    expect(objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'shop-web')!.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/shop-web:latest');

    // -o FILE: the same YAML in a file of the owner's only; Dockerfiles need a folder.
    const file = join(scratch('pm-k8s-file-'), 'shop.yaml');
    const written = await runCli([...args, '-o', file], { home: pmHome });
    expect(written.exitCode, written.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(`${first.stdout}\n`); // execa strips stdout's last newline
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(written.stderr).toMatch(/not written \(give -o DIR to write them\): Dockerfile\.web/);
  });

  it('refuses what it cannot read: an unknown instance, service or mode', async () => {
    const dir = project({ 'paasmaker.yml': EVERYTHING });
    const pmHome = home();
    const image = await runCli(['export', 'kubernetes', dir, '--image', 'wbe=x:1'], { home: pmHome });
    expect(image.exitCode).toBe(2);
    expect(image.stderr).toMatch(/--image wbe=…: the app has no instance type "wbe"/);
    const set = await runCli(['export', 'kubernetes', dir, '--set', 'database.url=postgresql://x@y/z'], { home: pmHome });
    expect(set.exitCode).toBe(2);
    expect(set.stderr).toMatch(/the app has no service "database"/);
    const mode = await runCli(['export', 'kubernetes', dir, '--services', 'cloud'], { home: pmHome });
    expect(mode.exitCode).toBe(2);
    expect(mode.stderr).toMatch(/--services cloud: expected external or managed/);
  });

  it("gives the Deployment the variable names `paasmaker env --json` gives locally", async () => {
    const pmHome = home();
    mkdirSync(pmHome, { recursive: true });
    writeFileSync(join(pmHome, 'config.yml'), 'services:\n  pg-shared:\n    plugin: postgres-external\n    admin_url: postgres://postgres@127.0.0.1:5432/postgres\n  redis-shared:\n    plugin: redis-external\n    admin_url: redis://127.0.0.1:6379\n');
    const app = `k8srt${process.pid}`;
    const dir = project({
      'paasmaker.yml': `application:\n  name: ${app}\ninstances:\n  web:\n    command: node server.js\n    environment: {GREETING: hello}\nservices:\n  db: pg-shared\n  cache: redis-shared\n  files: sqlite\n  uploads: filesystem\n  flags:\n    plugin: parameters\n    beta: "on"\n`,
      '.env': 'LOCAL_ONLY=1\nAPI_TOKEN=abc\n',
    });
    cleanups.push(async () => {
      for (const service of ['db', 'cache', 'files', 'uploads', 'flags']) await runCli(['services', 'destroy', `${app}/${service}`, '--yes'], { home: pmHome });
    });
    const local = await runCli(['env', dir, '--json'], { home: pmHome });
    expect(local.exitCode, local.stderr).toBe(0);
    const exported = await runCli(['export', 'kubernetes', dir], { home: pmHome });
    expect(exported.exitCode, exported.stderr).toBe(0);
    const objects = readBack(exported.stdout).map((data) => new MODELS[data.kind]!(data as never));
    const web = find(objects, 'Deployment', `${app}-web`);
    // PM_PORT: the platform gives it each process as the original did; `env` shows it only for a running app.
    const names = containerVariables(objects, web.spec.template.spec.containers[0]).filter((name) => name !== 'PM_PORT');
    expect(names).toEqual(Object.keys(JSON.parse(local.stdout) as Record<string, string>).sort());
    expect(names).toEqual(expect.arrayContaining(['DATABASE_URL', 'DB_HOST', 'REDIS_URL', 'FILES_PATH', 'UPLOADS_PATH', 'FLAGS_BETA', 'PM_SERVICES', 'GREETING', 'LOCAL_ONLY', 'API_TOKEN', 'PORT', 'HOST']));
    // The same name, the value for where it runs: loopback locally, every address in the pod.
    expect((JSON.parse(local.stdout) as Record<string, string>).HOST).toBe('127.0.0.1');
    expect(find(objects, 'ConfigMap', `${app}-web-env`).data.HOST).toBe('0.0.0.0');
  });
});

const kubectlOnPath = (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, 'kubectl')));

/** kubectl on PATH, and a cluster it reaches (client-side dry runs still read the API's discovery). */
function kubectlState(): 'missing' | 'no-cluster' | 'ready' {
  if (!kubectlOnPath) return 'missing';
  try {
    execFileSync('kubectl', ['version', '--request-timeout=5s'], { stdio: 'ignore', timeout: 15_000 });
    return 'ready';
  } catch {
    return 'no-cluster';
  }
}

describe('kubectl apply --dry-run=client', () => {
  const state = kubectlState();
  if (state !== 'ready') {
    const why = state === 'missing' ? 'kubectl is not on PATH' : 'kubectl was found on PATH but no cluster is reachable (kubectl version failed; even a client dry run reads the API server\'s discovery)';
    console.log(`skipped kubectl apply --dry-run=client: ${why}`);
    it.skip(`skipped: ${why}`, () => {});
    return;
  }
  it('accepts every object of guestbook-pg (managed) and the every-feature manifest', async () => {
    const out = scratch('pm-k8s-kubectl-');
    const dir = project({ 'paasmaker.yml': EVERYTHING });
    for (const [source, target] of [
      [join(examples, 'guestbook-pg'), join(out, 'guestbook')],
      [dir, join(out, 'shop')],
    ] as const) {
      const result = await runCli(['export', 'kubernetes', source, '-o', `${target}/`, '--services', 'managed', '--domain', 'example.com'], { home: home() });
      expect(result.exitCode, result.stderr).toBe(0);
      execFileSync('kubectl', ['apply', '--dry-run=client', '-k', target], { stdio: 'pipe', timeout: 60_000 });
    }
  });
});

describe('kubectl kustomize (offline)', () => {
  if (!kubectlOnPath) {
    console.log('skipped kubectl kustomize: kubectl is not on PATH');
    it.skip('skipped: kubectl is not on PATH', () => {});
    return;
  }
  it('builds the kustomization of guestbook-pg (managed): every object of all.yaml, each valid', async () => {
    const out = join(scratch('pm-k8s-kustomize-'), 'out');
    const result = await runCli(['export', 'kubernetes', join(examples, 'guestbook-pg'), '-o', `${out}/`, '--services', 'managed', '--namespace', 'guestbook'], { home: home() });
    expect(result.exitCode, result.stderr).toBe(0);
    const built = execFileSync('kubectl', ['kustomize', out], { encoding: 'utf8', timeout: 60_000 });
    const name = (object: Record<string, any>) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    const exported = readBack(readFileSync(join(out, 'all.yaml'), 'utf8')).map(name).sort();
    expect(exported.length).toBeGreaterThan(8);
    expect(readBack(built).map(name).sort()).toEqual(exported);
  });
});
