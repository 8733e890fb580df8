import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { defineCommand } from '../command.js';
import { PaasmakerError } from '../../shared/errors.js';

type Options = { output?: string; namespace?: string; image?: string[]; registry?: string; domain?: string; services?: string; set?: string[] };

export default defineCommand<Options>({
  name: 'export kubernetes',
  description: 'write the app as Kubernetes objects (YAML), with Dockerfiles for the images to build',
  arguments: [{ name: '[dir]', description: 'project folder', default: '.', completes: 'dir' }],
  options: [
    { flags: '-o, --output <path>', description: 'a folder (all.yaml, Dockerfiles, BUILD.md) or a .yaml file; default: stdout', completes: 'file' },
    { flags: '--namespace <ns>', description: 'put every object in this namespace' },
    { flags: '--image <instance=image...>', description: 'run an instance type in this image instead of one to build' },
    { flags: '--registry <prefix>', description: 'name images to build <prefix>/<app>-<instance>:latest' },
    { flags: '--domain <domain>', description: 'route <app>.<domain> to the web instance too' },
    { flags: '--services <mode>', description: 'external: Secrets to fill for servers you run; managed: database servers in the cluster', default: 'external' },
    { flags: '--set <service.key=value...>', description: "an external service's url, host, port, user, password or database" },
  ],
  examples: [
    'paasmaker export kubernetes                          YAML on stdout',
    'paasmaker export kubernetes examples/guestbook-pg -o out/ --services managed',
    'paasmaker export kubernetes . -o k8s/ --registry ghcr.io/acme --domain example.com',
    'paasmaker export kubernetes . --set db.url=postgresql://shop:secret@db.internal:5432/shop',
  ],
  run: ({ args, options }) => exportKubernetesCommand(args[0] as string, options),
});

/** INSTANCE=IMAGE and SERVICE.KEY=VALUE, as given. */
function pairs(flag: string, values: string[] | undefined, pattern: RegExp, example: string): RegExpExecArray[] {
  return (values ?? []).map((value) => {
    const match = pattern.exec(value);
    if (!match) throw new PaasmakerError('USAGE', `${flag} ${value}: expected ${example}`, { hint: `${flag} takes the values after it: give the project folder first (paasmaker export kubernetes DIR ${flag} …)` });
    return match;
  });
}

/** `paasmaker export kubernetes [DIR]`: the resolved manifest as Kubernetes objects; nothing is built, pushed or applied. */
async function exportKubernetesCommand(dir: string, options: Options): Promise<number> {
  const mode = options.services ?? 'external';
  if (mode !== 'external' && mode !== 'managed') throw new PaasmakerError('USAGE', `--services ${mode}: expected external or managed`);
  const images = Object.fromEntries(pairs('--image', options.image, /^([^=]+)=(.+)$/, 'INSTANCE=IMAGE, e.g. web=ghcr.io/acme/shop:1.2').map((match) => [match[1]!, match[2]!]));
  const set: Record<string, Record<string, string>> = {};
  for (const match of pairs('--set', options.set, /^([^.=]+)\.([^=]+)=(.*)$/, 'SERVICE.KEY=VALUE, e.g. db.url=postgresql://user:password@host:5432/name')) {
    (set[match[1]!] ??= {})[match[2]!] = match[3]!;
  }
  const manifest = (await import('../../manifest/index.js')).loadManifest(dir);
  const { exportKubernetes, kubernetesYaml, yamlDocuments } = await import('../../export/kubernetes.js');
  const { earlierPasswords } = await import('../../export/kubernetes-services.js');
  const { EXPORT_MARK } = await import('../../export/images.js');
  const { newPassword } = await import('../../services/names.js');
  const { loadConfig } = await import('../../services/config.js');
  const { paasmakerHome } = await import('../../shared/paths.js');
  const config = loadConfig(paasmakerHome());
  const output = options.output;
  const asFile = output !== undefined && !/\/$/.test(output) && (['.yaml', '.yml'].includes(extname(output)) || (existsSync(output) && !statSync(output).isDirectory()));
  const target = output === undefined ? undefined : asFile ? output : join(output, 'all.yaml');
  // Exporting again over an earlier export keeps its managed servers' passwords: the data they guard stays reachable, and the diff shows only what changed.
  const earlier = target && existsSync(target) ? earlierPasswords(yamlDocuments(readFileSync(target, 'utf8'))) : new Map<string, string>();
  const generated: string[] = [];
  const password = (secret: string) => {
    const kept = earlier.get(secret);
    if (kept !== undefined) return kept;
    generated.push(secret);
    return newPassword();
  };
  // The build lines name the Dockerfiles where -o DIR puts them, from the project folder they are run in.
  const dockerfiles = output !== undefined && !asFile ? relative(manifest.directory, resolve(output)) || '.' : undefined;
  const result = exportKubernetes(manifest, { namespace: options.namespace, images, registry: options.registry, domain: options.domain, services: mode, set, config, password, dockerfiles });
  // On stdout there is no earlier file to keep passwords from: say so where a diff would show it.
  const yaml = kubernetesYaml(manifest, result.objects, output === undefined && generated.length > 0 ? [`the passwords in ${generated.join(', ')} are new on every export to stdout; -o DIR or -o FILE keeps those of the file it replaces`] : []);
  const toBuild = result.images.filter((plan) => plan.dockerfile);
  if (output === undefined) {
    process.stdout.write(yaml);
    if (toBuild.length > 0) process.stderr.write(`not written (give -o DIR to write them): ${toBuild.map((plan) => plan.dockerfile!.path).join(', ')}, to build ${toBuild.map((plan) => plan.image).join(', ')}\n`);
  } else if (asFile) {
    mkdirSync(dirname(resolve(output)), { recursive: true });
    writeSecretFile(output, yaml);
    process.stderr.write(`wrote ${output}\n`);
    if (toBuild.length > 0) process.stderr.write(`not written (give -o DIR to write them): ${toBuild.map((plan) => plan.dockerfile!.path).join(', ')}\n`);
  } else {
    mkdirSync(output, { recursive: true });
    const written = [join(output, 'all.yaml')];
    writeSecretFile(written[0]!, yaml);
    const dockerfileTexts = new Map<string, string>();
    for (const plan of toBuild) dockerfileTexts.set(plan.dockerfile!.path, plan.dockerfile!.text);
    for (const [path, text] of dockerfileTexts) {
      writeFileSync(join(output, path), text);
      written.push(join(output, path));
    }
    const lines = toBuild.flatMap((plan) => plan.build);
    const given = result.images.filter((plan) => !plan.dockerfile);
    const build = [
      `# Building ${manifest.application.name} for Kubernetes`,
      '',
      'The export writes files only: it builds, pushes and applies nothing.',
      '',
      ...(lines.length > 0 ? ['Build (and push) the images, in the project folder:', '', '```sh', `cd ${relative(process.cwd(), manifest.directory) || '.'}`, ...lines, '```', ''] : []),
      ...(given.length > 0 ? [`Given images: ${given.map((plan) => `${plan.instance}=${plan.image}`).join(', ')}`, ''] : []),
      'Then apply the objects (kustomization.yaml lists them):',
      '',
      '```sh',
      // From the project folder the build lines went to, else from where the export ran.
      `kubectl apply -k ${lines.length > 0 ? dockerfiles : output.replace(/\/+$/, '') || '.'}`,
      '```',
      '',
      ...(result.notes.length + result.warnings.length > 0 ? ['Before you apply:', '', ...result.warnings.map((warning) => `- ${warning}`), ...result.notes.map((note) => `- ${note}`), ''] : []),
    ];
    writeFileSync(join(output, 'BUILD.md'), build.join('\n'));
    written.push(join(output, 'BUILD.md'));
    // kubectl apply -k DIR (and kubectl kustomize, offline); one the user made (with patches of their own) is left alone.
    const kustomization = join(output, 'kustomization.yaml');
    if (!existsSync(kustomization) || readFileSync(kustomization, 'utf8').startsWith(EXPORT_MARK)) {
      writeFileSync(kustomization, kustomizationYaml(EXPORT_MARK, ['all.yaml']));
      written.push(kustomization);
    } else {
      process.stderr.write(`kept ${kustomization}: it was not written by paasmaker export (it should list all.yaml in its resources)\n`);
    }
    process.stderr.write(`wrote ${written.join(', ')}\n`);
  }
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
  return 0;
}

/** A kustomization of the export's object files, for `kubectl apply -k`. */
function kustomizationYaml(mark: string, files: string[]): string {
  return [`${mark} kubernetes: kubectl apply -k on this folder applies these files`, 'apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources:', ...files.map((file) => `  - ${file}`), ''].join('\n');
}

/** all.yaml holds Secrets: the owner's only. */
function writeSecretFile(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}
