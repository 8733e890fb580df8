import { z } from 'zod';
import { runtimeNames } from '../../runtimes/index.js';

export const APP_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
export const PART_NAME = /^[a-z][a-z0-9_-]{0,39}$/;
const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** Origin-form (RFC 9112): a path and an optional query, of URI characters and %XX escapes only. */
const ORIGIN_FORM = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;

/** A hostname the router can match: DNS labels, optionally one leading "*." for one level of subdomains. */
export const isHostname = (name: string): boolean => name.length <= 253 && HOSTNAME.test(name);
/** A path Paasmaker can send as an HTTP request line's target, as written. */
export const isOriginForm = (path: string): boolean => path.length <= 2048 && ORIGIN_FORM.test(path);

export const HOSTNAME_HINT = 'a hostname such as shop.localhost, or *.shop.localhost for its subdomains: no scheme (http://), port or path';
export const PATH_HINT = 'a path such as /health or /tasks/cleanup?full=1; percent-encode other characters (a space is %20, "#" is %23)';

/** A path sent in an HTTP request (health checks, crons). */
export const requestPath = z
  .string({ error: 'must be a path (a string)' })
  .refine((path) => path.startsWith('/'), { error: 'must start with "/"', params: { hint: PATH_HINT }, abort: true })
  .refine(isOriginForm, { error: 'must be a URL path: no spaces, control characters or "#"', params: { hint: PATH_HINT } });
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const commands = z.union([z.string().min(1), z.array(z.string().min(1))], {
  error: 'must be a command or a list of commands',
});

export const RESTART_POLICIES = ['always', 'on-failure', 'never'] as const;
/** What a dependent waits for: `ready` (the dependency's first outcome), `completed` (a one-shot that exited 0). */
export const CONDITIONS = ['ready', 'completed'] as const;

/** A name in the runtime registry, read when a manifest is checked (not when this module loads). */
const runtimeName = z.string({ error: () => `must be one of ${runtimeNames.join(', ')}` }).check((ctx) => {
  if (!runtimeNames.includes(ctx.value)) {
    ctx.issues.push({ code: 'invalid_value', values: [...runtimeNames], input: ctx.value, message: `must be one of ${runtimeNames.join(', ')}` });
  }
});

/** A node label's key (an optional DNS prefix and "/", then a name) and value, as a cluster accepts them. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
export const LABEL_HINT = 'node labels such as disk: ssd or topology.kubernetes.io/zone: eu-west-1a: letters, digits, "-", "_" and ".", at most 63 characters';
export const isLabelKey = (key: string): boolean => LABEL_KEY.test(key);
export const isLabelValue = (value: string): boolean => LABEL_VALUE.test(value);
/** Placement tags: node labels, a value a string (numbers and booleans as written). */
export const placementTags = z.record(
  z.string().refine(isLabelKey, { error: 'must be a node label name (letters, digits, "-", "_", ".", optionally prefixed with "example.com/")', params: { hint: LABEL_HINT } }),
  z
    .union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' })
    .refine((value) => isLabelValue(String(value)), { error: 'must be a node label value: at most 63 letters, digits, "-", "_" or "."', params: { hint: LABEL_HINT } }),
  { error: 'must be a map of label: value' },
);

export const instanceSchema = z.strictObject({
  // The runtime's own options (php's document_root) stay in the map here: they are checked against its plugin's schema once the name is known.
  runtime: z
    .union([runtimeName, z.looseObject({ name: runtimeName, version: z.union([z.string(), z.number()], { error: 'must be a version (a string such as "8.2" or ">=3.9")' }).optional() })], {
      error: () => `must be a runtime name (${runtimeNames.join(', ')}) or {name, version}`,
    })
    .optional(),
  prepare: z
    .union([commands, z.strictObject({ commands, watch: z.array(z.string()).optional() })], {
      error: 'must be a command, a list of commands, or {commands, watch}',
    })
    .optional(),
  startup: commands.optional(),
  command: z.string({ error: 'must be a command (a string)' }).min(1, { error: 'must not be empty' }).optional(),
  root: z.string({ error: 'must be a folder (a string)' }).optional(),
  quantity: z
    .number({ error: 'must be a whole number from 1 to 64' })
    .int({ error: 'must be a whole number from 1 to 64' })
    .min(1, { error: 'must be a whole number from 1 to 64' })
    .max(64, { error: 'must be a whole number from 1 to 64' })
    .optional(),
  hostnames: z
    .array(z.string({ error: 'must be a hostname (a string)' }).refine(isHostname, { error: 'must be a lowercase hostname, optionally starting with "*."', params: { hint: HOSTNAME_HINT } }), {
      error: 'must be a list of hostnames',
    })
    .optional(),
  environment: z
    .record(
      z.string().regex(ENV_NAME, { error: 'must be a variable name (letters, digits, _)' }),
      z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' }),
      { error: 'must be a map of NAME: value' },
    )
    .optional(),
  health: z
    .strictObject(
      {
        path: requestPath.optional(),
        timeout: z.number({ error: 'must be a number of seconds' }).positive({ error: 'must be more than 0 seconds' }).optional(),
        interval: z.number({ error: 'must be a number of seconds' }).positive({ error: 'must be more than 0 seconds' }).max(3600).optional(),
        failures: z.number({ error: 'must be a whole number from 1 to 100' }).int({ error: 'must be a whole number from 1 to 100' }).min(1, { error: 'must be a whole number from 1 to 100' }).max(100, { error: 'must be a whole number from 1 to 100' }).optional(),
      },
      { error: 'must be a map: {path, timeout, interval, failures}' },
    )
    .optional(),
  standalone: z.boolean({ error: 'must be true or false' }).optional(),
  port_flag: z.boolean({ error: 'must be true or false: false leaves the command as written, with no --port added' }).optional(),
  depends_on: z
    .union(
      [
        z.array(z.string(), { error: 'must be a list of instance or service names' }),
        z.record(
          z.string(),
          z.union([z.null(), z.strictObject({ condition: z.enum(CONDITIONS, { error: `must be ${CONDITIONS.join(' or ')}` }).optional() }, { error: 'must be a map: {condition}' })], {
            error: `must be {condition: ${CONDITIONS.join(' | ')}}`,
          }),
        ),
      ],
      { error: 'must be a list of instance or service names, or a map of name: {condition}' },
    )
    .optional(),
  restart: z.enum(RESTART_POLICIES, { error: `must be one of ${RESTART_POLICIES.join(', ')}` }).optional(),
  max_restarts: z
    .number({ error: 'must be a whole number from 0 to 1000' })
    .int({ error: 'must be a whole number from 0 to 1000' })
    .min(0, { error: 'must be a whole number from 0 to 1000' })
    .max(1000, { error: 'must be a whole number from 0 to 1000' })
    .optional(),
  oneshot: z.boolean({ error: 'must be true or false' }).optional(),
  crons: z
    .array(
      z.strictObject({
        name: z.string().regex(PART_NAME, { error: 'must be lowercase letters, digits, "-" or "_"' }).optional(),
        schedule: z.string({ error: 'must be a cron schedule such as "*/5 * * * *"' }).min(1),
        uri: requestPath.optional(),
        command: z.string().min(1).optional(),
      }),
      { error: 'must be a list of {schedule, uri | command}' },
    )
    .optional(),
  watch: z
    .union([z.boolean(), z.strictObject({ ignore: z.array(z.string()).optional() })], { error: 'must be true, false or {ignore: [globs]}' })
    .optional(),
  stop_timeout: z.number({ error: 'must be a number of seconds' }).positive({ error: 'must be more than 0 seconds' }).max(600).optional(),
  placement: z
    .strictObject({ tags: placementTags.optional(), spread: z.boolean({ error: 'must be true or false' }).optional() }, { error: 'must be a map: {tags, spread}' })
    .optional(),
});

export const serviceSchema = z.union(
  [z.string().min(1), z.looseObject({ plugin: z.string({ error: 'must be a plugin name' }).min(1).optional() }), z.null()],
  { error: 'must be a plugin name or a map with "plugin" and options' },
);

export const manifestSchema = z.strictObject(
  {
    application: z.strictObject(
      {
        name: z.string({ error: 'must be a name (a string)' }).regex(APP_NAME, { error: 'must be 1–40 characters of a-z, 0-9 and "-"' }),
        workspace: z
          .string({ error: 'must be a workspace name (a string)' })
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: 'must be 1–63 letters, digits, ".", "_" or "-", starting with a letter or digit' })
          .optional(),
      },
      { error: 'must be a map with a "name"' },
    ),
    instances: z.record(z.string(), instanceSchema, { error: 'must be a map of instance types (web, worker, …)' }),
    services: z.record(z.string(), serviceSchema, { error: 'must be a map of service names' }).optional(),
  },
  { error: 'must be a map with "application" and "instances"' },
);

export type ManifestInput = z.infer<typeof manifestSchema>;
export type InstanceInput = z.infer<typeof instanceSchema>;

/** The keys each level allows, for did-you-mean. */
export const ALLOWED_KEYS: Record<string, readonly string[]> = {
  '': Object.keys(manifestSchema.shape),
  application: ['name', 'workspace'],
  instance: Object.keys(instanceSchema.shape),
  runtime: ['name', 'version'],
  prepare: ['commands', 'watch'],
  health: ['path', 'timeout', 'interval', 'failures'],
  cron: ['name', 'schedule', 'uri', 'command'],
  watch: ['ignore'],
  depends_on: ['condition'],
  placement: ['tags', 'spread'],
};
