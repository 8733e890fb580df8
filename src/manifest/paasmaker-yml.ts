import { resolve } from 'node:path';
import { z } from 'zod';
import { getRuntime } from '../../runtimes/index.js';
import { problemsFrom, firstProblem, type Problem } from './issues.js';
import { manifestError } from './positions.js';
import { manifestSchema, PART_NAME, type InstanceInput } from './schema.js';
import { Cron } from 'croner';
import type { ResolvedInstance, ResolvedManifest, ResolvedRuntime, ResolvedService, RuntimeName, SourcePosition } from './types.js';
import { readYaml } from './yaml-source.js';
import type { PositionFinder } from './positions.js';

/** Ready within 10 s; once running, checked every 10 s, restarted after 3 failed checks in a row. */
export const HEALTH_DEFAULTS = { timeout: 10, interval: 10, failures: 3 } as const;

/** The runtime a command implies, when the manifest names none. */
export function inferRuntime(command: string | undefined): RuntimeName {
  const first = (command ?? '').trim().split(/\s+/)[0]?.split('/').pop() ?? '';
  if (/^(node|npm|npx|yarn|pnpm|tsx)$/.test(first)) return 'node';
  if (/^(python[0-9.]*|pip[0-9.]*|uvicorn|gunicorn|flask)$/.test(first)) return 'python';
  if (/^(php[0-9.]*|composer)$/.test(first)) return 'php';
  if (/^(ruby[0-9.]*|bundle|rackup|rails|puma|rake)$/.test(first)) return 'ruby';
  return 'shell';
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function fail(file: string, text: string, problem: Problem): never {
  throw manifestError(file, text, problem.position, problem.message, problem.hint);
}

/** Reads a paasmaker.yml: validate with positions, then resolve into plain data. */
export function parsePaasmakerYml(text: string, file: string, directory: string): Omit<ResolvedManifest, 'dotenv'> {
  const { data, where } = readYaml(text, file);
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) fail(file, text, firstProblem(problemsFrom(parsed.error.issues, data, where))!);
  const input = parsed.data;
  const problem = (position: SourcePosition, message: string, hint?: string) => fail(file, text, { position, message, hint });

  const instanceNames = Object.keys(input.instances);
  const known = new Set(instanceNames);
  if (instanceNames.length === 0) problem(where.key(['instances']), 'instances is empty: declare at least one', 'for example:\n  web:\n    command: node server.js');
  const serviceNames = Object.keys(input.services ?? {});
  for (const name of instanceNames) {
    if (!PART_NAME.test(name)) problem(where.key(['instances', name]), `instance name "${name}" must start with a-z and hold only a-z, 0-9, "-" and "_" (up to 40)`);
  }
  for (const name of serviceNames) {
    if (!PART_NAME.test(name)) problem(where.key(['services', name]), `service name "${name}" must start with a-z and hold only a-z, 0-9, "-" and "_" (up to 40)`);
    if (known.has(name)) problem(where.key(['services', name]), `"${name}" names both an instance and a service`, 'rename one of them');
  }

  for (const name of serviceNames) known.add(name);
  const instances = instanceNames.map((name) => resolveInstance(name, input.instances[name]!, { directory, where, problem, data, fail: (found: Problem) => fail(file, text, found) }));
  const byName = new Map(instances.map((instance) => [instance.name, instance]));
  for (const instance of instances) {
    const raw = input.instances[instance.name]!.depends_on;
    // A list names dependencies; a map gives each a condition.
    const at = (dependency: string, index: number) => (Array.isArray(raw) ? where.value(['instances', instance.name, 'depends_on', index]) : where.key(['instances', instance.name, 'depends_on', dependency]));
    instance.depends_on.forEach((dependency, index) => {
      if (!known.has(dependency)) {
        problem(at(dependency, index), `instances.${instance.name}.depends_on names "${dependency}", which is neither an instance nor a service`, `known: ${[...known].slice(0, 20).join(', ')}${known.size > 20 ? ', …' : ''}`);
      }
      const condition = Array.isArray(raw) ? undefined : raw?.[dependency]?.condition;
      const target = byName.get(dependency);
      const position = () => where.value(['instances', instance.name, 'depends_on', dependency, 'condition']);
      if (condition === 'completed' && !target?.oneshot) {
        problem(position(), `instances.${instance.name}.depends_on.${dependency}: condition "completed" waits for a one-shot, and "${dependency}" ${target ? 'is not one: it runs until stopped' : 'is a service'}`, target ? `set oneshot: true on instances.${dependency}, or use condition: ready` : 'use condition: ready (services are provisioned before any instance starts)');
      }
      if (condition === 'ready' && target?.oneshot) {
        problem(position(), `instances.${instance.name}.depends_on.${dependency}: "${dependency}" is a one-shot, which is never ready: it completes`, 'use condition: completed');
      }
    });
  }
  const cycle = findCycle(instances);
  if (cycle) problem(where.key(['instances', cycle[0]!, 'depends_on']), `depends_on makes a cycle: ${cycle.join(' -> ')}`, 'remove one of these dependencies');

  const services: ResolvedService[] = serviceNames.map((name) => {
    const raw = input.services![name];
    const position = where.key(['services', name]);
    if (typeof raw === 'string') return { name, plugin: raw, options: {}, position };
    const { plugin, ...options } = (raw ?? {}) as { plugin?: string } & Record<string, unknown>;
    return { name, plugin: plugin ?? 'sqlite', options, position };
  });

  return { kind: 'paasmaker.yml', file, directory, application: { name: input.application.name, ...(input.application.workspace === undefined ? {} : { workspace: input.application.workspace }) }, instances, services };
}

function resolveInstance(
  name: string,
  raw: InstanceInput,
  context: { directory: string; where: PositionFinder; problem: (position: SourcePosition, message: string, hint?: string) => never; data: unknown; fail: (problem: Problem) => never },
): ResolvedInstance {
  const { where, problem, directory } = context;
  const runtime = resolveRuntime(name, raw, context);
  if (runtime.name !== 'static' && !raw.command && !getRuntime(runtime.name).defaultCommand) {
    problem(where.key(['instances', name]), `instances.${name} needs "command" (the launch command)`, `for example:\n  ${name}:\n    command: node server.js`);
  }
  if (runtime.name === 'static' && raw.command) problem(where.childKey(['instances', name], 'command'), `instances.${name} uses the static runtime, which runs no command`, 'remove "command", or choose another runtime');
  if (raw.root !== undefined && runtime.name !== 'static') problem(where.childKey(['instances', name], 'root'), `"root" only applies to the static runtime`, `set runtime: static on instances.${name}, or remove "root"`);
  (raw.crons ?? []).forEach((cron, index) => {
    if ((cron.uri === undefined) === (cron.command === undefined)) {
      problem(where.value(['instances', name, 'crons', index]), `instances.${name}.crons[${index}] needs exactly one of "uri" or "command"`);
    }
    const invalid = cronProblem(cron.schedule);
    if (invalid) problem(where.value(['instances', name, 'crons', index, 'schedule']), `instances.${name}.crons[${index}].schedule: ${invalid}`, CRON_HINT);
  });
  const prepare = raw.prepare === undefined ? { commands: [] as string[], watch: [] as string[] } : typeof raw.prepare === 'object' && !Array.isArray(raw.prepare) ? { commands: list(raw.prepare.commands), watch: raw.prepare.watch ?? [] } : { commands: list(raw.prepare), watch: [] };
  const oneshot = raw.oneshot ?? false;
  const at = (key: string) => where.childKey(['instances', name], key);
  if (oneshot) {
    const why = `instances.${name} is a one-shot (it runs to completion), which is never routed`;
    if (runtime.name === 'static') problem(at('oneshot'), `instances.${name} uses the static runtime, which serves files and never completes`, 'remove "oneshot", or give the one-shot a command and another runtime');
    if (raw.standalone === false) problem(at('standalone'), why, 'remove "standalone: false": a one-shot is standalone');
    if (raw.hostnames !== undefined) problem(at('hostnames'), why, 'remove "hostnames"');
    if (raw.restart === 'always') problem(where.value(['instances', name, 'restart']), `instances.${name} is a one-shot: restart: always would run it again and again`, 'use restart: on-failure with max_restarts to retry a failure, or leave restart out (never)');
  }
  if (raw.max_restarts !== undefined && raw.restart === 'never') problem(at('max_restarts'), `instances.${name}.max_restarts has no effect with restart: never`, 'remove max_restarts, or set restart: on-failure');
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw.environment ?? {})) environment[key] = String(value);
  return {
    name,
    runtime: runtime as ResolvedInstance['runtime'],
    prepare,
    startup: list(raw.startup),
    command: raw.command,
    root: runtime.name === 'static' ? resolve(directory, raw.root ?? '.') : undefined,
    quantity: raw.quantity ?? 1,
    hostnames: raw.hostnames ?? [],
    environment,
    health: { ...HEALTH_DEFAULTS, ...raw.health },
    standalone: oneshot || (raw.standalone ?? false),
    ...(raw.port_flag === false ? { portFlag: false } : {}),
    depends_on: Array.isArray(raw.depends_on) ? raw.depends_on : Object.keys(raw.depends_on ?? {}),
    // A one-shot is retried only when asked to (max_restarts names how often).
    restart: raw.restart ?? (oneshot && raw.max_restarts === undefined ? 'never' : 'on-failure'),
    maxRestarts: raw.max_restarts,
    oneshot,
    crons: (raw.crons ?? []).map((cron, index) => ({ name: cron.name ?? `${name}-${index + 1}`, schedule: cron.schedule, uri: cron.uri, command: cron.command })),
    watch: raw.watch === undefined || raw.watch === true ? { enabled: true, ignore: [] } : raw.watch === false ? { enabled: false, ignore: [] } : { enabled: true, ignore: raw.watch.ignore ?? [] },
    stopTimeout: raw.stop_timeout ?? 5,
    placement: { tags: Object.fromEntries(Object.entries(raw.placement?.tags ?? {}).map(([key, value]) => [key, String(value)])), spread: raw.placement?.spread ?? false },
    position: where.key(['instances', name]),
  };
}

/**
 * The runtime an instance names, with its options checked against its plugin's
 * schema: an unknown key or a bad value is a positioned problem like any other.
 */
function resolveRuntime(instance: string, raw: InstanceInput, context: { where: PositionFinder; data: unknown; fail: (problem: Problem) => never }): ResolvedRuntime {
  if (raw.runtime === undefined) return { name: inferRuntime(raw.command) };
  if (typeof raw.runtime === 'string') return { name: raw.runtime };
  const { name, version } = raw.runtime;
  const resolved: ResolvedRuntime = { name, version: version === undefined ? undefined : String(version) };
  const options = getRuntime(name).options;
  const shape = options?.shape ?? {};
  const allowed = ['name', 'version', ...Object.keys(shape)];
  const checked = z.strictObject({ name: z.string(), version: z.unknown().optional(), ...shape }).safeParse(raw.runtime);
  if (!checked.success) {
    context.fail(firstProblem(problemsFrom(checked.error.issues, context.data, context.where, ['instances', instance, 'runtime'], () => allowed))!);
  }
  if (options) {
    const values = checked.data as Record<string, unknown>;
    resolved.options = Object.fromEntries(Object.keys(shape).filter((key) => values[key] !== undefined).map((key) => [key, values[key]]));
  }
  return resolved;
}

/** A dependency cycle among instances, as a path that returns to its start (depth-first, without recursion). */
function findCycle(instances: ResolvedInstance[]): string[] | undefined {
  const names = new Set(instances.map((instance) => instance.name));
  const edges = new Map(instances.map((instance) => [instance.name, instance.depends_on.filter((d) => names.has(d))]));
  const state = new Map<string, 'visiting' | 'done'>();
  for (const instance of instances) {
    if (state.has(instance.name)) continue;
    const stack: Array<{ node: string; next: number }> = [{ node: instance.name, next: 0 }];
    state.set(instance.name, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = edges.get(top.node)![top.next++];
      if (next === undefined) {
        state.set(top.node, 'done');
        stack.pop();
      } else if (state.get(next) === 'visiting') {
        const path = stack.map((frame) => frame.node);
        return [...path.slice(path.indexOf(next)), next];
      } else if (!state.has(next)) {
        state.set(next, 'visiting');
        stack.push({ node: next, next: 0 });
      }
    }
  }
  return undefined;
}

export const CRON_HINT = 'five fields (minute hour day month weekday), or six with seconds first: "*/5 * * * *", "*/10 * * * * *"';

/** Why a cron schedule is not one, or undefined when it is. */
export function cronProblem(schedule: string): string | undefined {
  try {
    new Cron(schedule, { paused: true }).stop();
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, '');
  }
}
