import { z } from 'zod';
import { getRuntime } from '../../runtimes/index.js';
import { firstProblem, problemsFrom } from './issues.js';
import { manifestError } from './positions.js';
import { APP_NAME, HOSTNAME_HINT, isHostname, PART_NAME, placementTags, requestPath } from './schema.js';
import { CRON_HINT, cronProblem, HEALTH_DEFAULTS, inferRuntime } from './paasmaker-yml.js';
import type { ResolvedInstance, ResolvedManifest, ResolvedService, RuntimeName } from './types.js';
import { readYaml } from './yaml-source.js';
import { resolve } from 'node:path';

/**
 * The original Paasmaker manifest.yml (format 1). Keys the original allowed
 * but Paasmaker has no use for (exclusive, ...) are accepted and ignored. Its
 * `tags` (the application's, and an instance's own, which win) become
 * placement tags: node labels on a cluster.
 */
const pluginCommands = z.looseObject({
  plugin: z.string().optional(),
  parameters: z.looseObject({ commands: z.array(z.string(), { error: 'must be a list of commands' }).optional() }).optional(),
});
const commandsList = z.array(z.union([z.string(), pluginCommands], { error: 'must be a command or {plugin, parameters: {commands}}' }), {
  error: 'must be a list',
});

const format1Schema = z.looseObject({
  manifest: z.looseObject({ format: z.literal(1, { error: 'must be 1 (the only format Paasmaker reads)' }) }, { error: 'must be {format: 1}' }),
  application: z.looseObject({
    name: z.string({ error: 'must be a name (a string)' }).regex(APP_NAME, { error: 'must be 1–40 characters of a-z, 0-9 and "-"' }),
    tags: placementTags.optional(),
    prepare: z.looseObject({ runtime: z.looseObject({}).optional(), commands: commandsList.optional() }).optional(),
  }),
  instances: z.array(
    z.looseObject({
      name: z.string({ error: 'must be a name' }).regex(PART_NAME, { error: 'must start with a-z and hold only a-z, 0-9, "-" and "_"' }),
      quantity: z.number().int().min(1).max(64, { error: 'must be a whole number from 1 to 64' }).optional(),
      runtime: z.looseObject({
        plugin: z.string({ error: 'must be a runtime plugin name such as paasmaker.runtime.shell' }),
        parameters: z.looseObject({ launch_command: z.string().optional(), document_root: z.string().optional() }).optional(),
        version: z.union([z.string(), z.number()]).optional(),
      }),
      startup: commandsList.optional(),
      hostnames: z
        .array(
          z.string({ error: 'must be a hostname (a string)' }).refine((host) => isHostname(host.toLowerCase()), { error: 'must be a hostname, optionally starting with "*."', params: { hint: HOSTNAME_HINT } }),
          { error: 'must be a list of hostnames' },
        )
        .optional(),
      standalone: z.boolean().optional(),
      tags: placementTags.optional(),
      crons: z
        .array(z.looseObject({ runspec: z.string({ error: 'must be a cron schedule such as "*/5 * * * *"' }), uri: requestPath.optional(), command: z.string().min(1).optional() }), {
          error: 'must be a list of {runspec, uri | command}',
        })
        .optional(),
    }),
    { error: 'must be a list of instances' },
  ),
  services: z
    .array(
      z.looseObject({
        name: z.string({ error: 'must be a name' }).regex(PART_NAME, { error: 'must start with a-z and hold only a-z, 0-9, "-" and "_"' }),
        plugin: z.string({ error: 'must be a service plugin name such as paasmaker.service.postgres' }),
        parameters: z.looseObject({}).optional(),
      }),
      { error: 'must be a list of services' },
    )
    .optional(),
});

const SERVICE_PLUGINS: Array<[RegExp, string]> = [
  [/postgres/, 'postgres'],
  [/mysql|maria/, 'mysql'],
  [/redis/, 'redis'],
  [/filesystem/, 'filesystem'],
  [/parameters/, 'parameters'],
  [/sqlite/, 'sqlite'],
];

function runtimeFor(plugin: string, command: string | undefined): RuntimeName {
  if (/static/.test(plugin)) return 'static';
  if (/python/.test(plugin)) return 'python';
  if (/node/.test(plugin)) return 'node';
  if (/php/.test(plugin)) return 'php';
  if (/ruby/.test(plugin)) return 'ruby';
  return /shell/.test(plugin) ? (inferRuntime(command) === 'shell' ? 'shell' : inferRuntime(command)) : 'shell';
}

function flatten(entries: z.infer<typeof commandsList> | undefined): string[] {
  return (entries ?? []).flatMap((entry) => (typeof entry === 'string' ? [entry] : (entry.parameters?.commands ?? [])));
}

/** %(port)d and %(port)s, the original's placeholders, become $PORT. */
function portPlaceholders(command: string): string {
  return command.replace(/%\(port\)[ds]/g, '$PORT');
}

export function parseFormat1(text: string, file: string, directory: string): Omit<ResolvedManifest, 'dotenv'> {
  const { data, where } = readYaml(text, file);
  const parsed = format1Schema.safeParse(data);
  if (!parsed.success) {
    const problem = firstProblem(problemsFrom(parsed.error.issues, data, where))!;
    throw manifestError(file, text, problem.position, problem.message, problem.hint ?? 'see the original Paasmaker manifest format (format 1)');
  }
  const input = parsed.data;
  const prepare = flatten(input.application.prepare?.commands);
  const seen = new Set<string>();
  const instances: ResolvedInstance[] = input.instances.map((raw, index) => {
    const position = where.value(['instances', index]);
    if (seen.has(raw.name)) throw manifestError(file, text, where.value(['instances', index, 'name']), `instance "${raw.name}" is declared twice`);
    seen.add(raw.name);
    const launch = raw.runtime.parameters?.launch_command;
    const runtime = runtimeFor(raw.runtime.plugin, launch);
    if (runtime !== 'static' && !launch && !getRuntime(runtime).defaultCommand) {
      throw manifestError(file, text, where.key(['instances', index, 'runtime']), `instances[${index}] (${raw.name}) needs runtime.parameters.launch_command`);
    }
    (raw.crons ?? []).forEach((cron, n) => {
      if ((cron.uri === undefined) === (cron.command === undefined)) throw manifestError(file, text, where.value(['instances', index, 'crons', n]), `instances[${index}].crons[${n}] needs exactly one of "uri" or "command"`);
      const invalid = cronProblem(cron.runspec);
      if (invalid) throw manifestError(file, text, where.value(['instances', index, 'crons', n, 'runspec']), `instances[${index}].crons[${n}].runspec: ${invalid}`, CRON_HINT);
    });
    const version = raw.runtime.version === undefined ? undefined : String(raw.runtime.version);
    return {
      name: raw.name,
      // The original versioned runtimes by plugin ("1", "3.9"); only real ranges carry over.
      runtime: {
        name: runtime,
        version: runtime === 'shell' || runtime === 'static' || version === '1' ? undefined : version,
        // The original's PHP runtime served parameters.document_root.
        ...(runtime === 'php' && raw.runtime.parameters?.document_root !== undefined ? { options: { document_root: raw.runtime.parameters.document_root } } : {}),
      },
      prepare: { commands: index === 0 ? prepare : [], watch: [] },
      startup: flatten(raw.startup),
      command: runtime === 'static' || launch === undefined ? undefined : portPlaceholders(launch),
      root: runtime === 'static' ? resolve(directory, raw.runtime.parameters?.document_root ?? '.') : undefined,
      quantity: raw.quantity ?? 1,
      hostnames: (raw.hostnames ?? []).map((host) => host.toLowerCase()),
      environment: {},
      health: { ...HEALTH_DEFAULTS },
      standalone: raw.standalone ?? false,
      depends_on: [],
      restart: 'on-failure',
      oneshot: false,
      crons: (raw.crons ?? []).map((cron, n) => ({ name: `${raw.name}-${n + 1}`, schedule: cron.runspec, uri: cron.uri, command: cron.command })),
      watch: { enabled: true, ignore: [] },
      stopTimeout: 5,
      placement: { tags: Object.fromEntries(Object.entries({ ...input.application.tags, ...raw.tags }).map(([key, value]) => [key, String(value)])), spread: false },
      position,
    };
  });
  const serviceNames = new Set<string>();
  const services: ResolvedService[] = (input.services ?? []).map((raw, index) => {
    if (serviceNames.has(raw.name)) throw manifestError(file, text, where.value(['services', index, 'name']), `service "${raw.name}" is declared twice`);
    if (seen.has(raw.name)) throw manifestError(file, text, where.value(['services', index, 'name']), `"${raw.name}" names both an instance and a service`, 'rename one of them');
    serviceNames.add(raw.name);
    const plugin = SERVICE_PLUGINS.find(([pattern]) => pattern.test(raw.plugin))?.[1] ?? raw.plugin;
    return { name: raw.name, plugin, options: { ...(raw.parameters ?? {}) }, position: where.value(['services', index]) };
  });
  return { kind: 'manifest.yml', file, directory, application: { name: input.application.name }, instances, services };
}
