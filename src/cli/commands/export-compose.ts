import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { PaasmakerError } from '../../shared/errors.js';
import { defineCommand } from '../command.js';

type Options = { output: string; image?: string[]; registry?: string };

export default defineCommand<Options>({
  name: 'export compose',
  description: 'write a compose.yaml (and the Dockerfiles its images build from) for the app: its instance types, its databases as official images',
  arguments: [{ name: '[dir]', description: 'project folder', default: '.', completes: 'dir' }],
  options: [
    { flags: '-o, --output <file>', description: 'the compose file to write; Dockerfiles go beside it', default: 'compose.yaml', completes: 'file' },
    { flags: '--image <instance=image...>', description: 'run an instance type in this image instead of building one (repeat for each)' },
    { flags: '--registry <prefix>', description: 'name the images to build under this registry (ghcr.io/acme), and print the push lines' },
  ],
  examples: [
    'paasmaker export compose                         compose.yaml and Dockerfile here',
    'paasmaker export compose examples/guestbook-pg -o out/compose.yaml',
    'paasmaker export compose --image web=ghcr.io/acme/shop:1.2   no Dockerfile for web',
  ],
  run: ({ args, options }) => exportCompose(args[0] as string, options),
});

/** `--image web=registry/app:1 --image worker=…` as a map; a value without `=` is a usage error. */
export function parseImages(values: string[] | undefined, instances: string[]): Record<string, string> {
  const images: Record<string, string> = {};
  for (const value of values ?? []) {
    const at = value.indexOf('=');
    const instance = value.slice(0, at);
    const image = value.slice(at + 1);
    if (at <= 0 || image === '') throw new PaasmakerError('USAGE', `--image ${value}: give INSTANCE=IMAGE`, { hint: `for example --image ${instances[0] ?? 'web'}=ghcr.io/acme/app:1.0` });
    if (!instances.includes(instance)) throw new PaasmakerError('USAGE', `--image ${value}: the app has no instance type "${instance}"`, { hint: `its instance types: ${instances.join(', ')}` });
    images[instance] = image;
  }
  return images;
}

async function exportCompose(dir: string, options: Options): Promise<number> {
  const { loadManifest } = await import('../../manifest/index.js');
  const { loadConfig, pluginFor } = await import('../../services/index.js');
  const { paasmakerHome } = await import('../../shared/paths.js');
  const { composeExport } = await import('../../export/compose.js');
  const { EXPORT_MARK } = await import('../../export/images.js');
  const manifest = loadManifest(dir);
  const images = parseImages(options.image, manifest.instances.map((instance) => instance.name));
  const file = resolve(options.output);
  const config = loadConfig(paasmakerHome());
  const shown = (path: string) => relative(process.cwd(), path) || '.';
  const result = await composeExport(manifest, { images, registry: options.registry, file, pluginFor: (symbolic) => pluginFor(config, symbolic), shown: { directory: shown(dirname(file)), context: shown(manifest.directory) } });
  // A Dockerfile of the user's own is never replaced.
  for (const extra of result.files) {
    if (existsSync(extra.path) && !readFileSync(extra.path, 'utf8').startsWith(EXPORT_MARK)) {
      throw new PaasmakerError('ALREADY_EXISTS', `${extra.path} exists and was not written by paasmaker export`, { hint: 'write the export to another folder with -o DIR/compose.yaml, or give the image with --image; nothing was changed' });
    }
  }
  mkdirSync(dirname(file), { recursive: true });
  for (const extra of result.files) writeFileSync(extra.path, extra.text);
  // It holds the databases' passwords.
  writeFileSync(file, result.text, { mode: 0o600 });
  chmodSync(file, 0o600);
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
  const lines = [`wrote ${shown(file)}${result.files.length > 0 ? ` and ${result.files.map((extra) => shown(extra.path)).join(', ')}` : ''}`];
  const build = result.plans.flatMap((plan) => plan.build);
  if (build.length > 0) lines.push('build the images (the export builds nothing):', ...build.map((line) => `  ${line}`));
  lines.push('then:', `  docker compose -f ${shown(file)} up${build.length > 0 && !options.registry ? ' --build' : ''}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
