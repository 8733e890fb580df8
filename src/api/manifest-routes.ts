import { z } from 'zod';
import { maskEnvironment } from '../engine/index.js';
import { maskValue } from '../services/environment.js';
import type { ResolvedManifest } from '../manifest/index.js';
import { appRecord, type Route } from './route.js';

const Values = z.record(z.string(), z.string());

/** The resolved manifest as the API answers it: the reader's shape, secret-looking values masked. */
export const ManifestSchema = z
  .object({
    kind: z.string().describe('the file it was read from: paasmaker.yml, manifest.yml or Procfile'),
    file: z.string(),
    directory: z.string(),
    application: z.object({ name: z.string(), workspace: z.string().optional() }),
    instances: z.array(z.looseObject({ name: z.string(), quantity: z.number(), environment: Values })).describe('instance types with defaults applied: runtime, command, quantity, health, crons, environment (secrets masked)'),
    services: z.array(z.looseObject({ name: z.string(), plugin: z.string() })).describe('services, their options with secret-looking values masked'),
    only: z.array(z.string()).optional(),
    dotenv: z.object({ file: z.string().optional(), values: Values.describe("the .env file's values, secrets masked") }),
  })
  .meta({ id: 'Manifest' });
export type ManifestRow = z.infer<typeof ManifestSchema>;

/** A service's options with each secret-looking value (by its name in any case, at any depth; a URL with credentials; a connection string's password=) masked. */
function maskOptions(options: Record<string, unknown>): Record<string, unknown> {
  return maskValue(options) as Record<string, unknown>;
}

/** What the API shows of a manifest: every value that looks like a secret masked, as the environment's are. */
export function maskedManifest(manifest: ResolvedManifest): ManifestRow {
  return {
    ...manifest,
    instances: manifest.instances.map((instance) => ({ ...instance, environment: maskEnvironment(instance.environment) })),
    services: manifest.services.map((service) => ({ ...service, options: maskOptions(service.options) })),
    dotenv: { ...manifest.dotenv, values: maskEnvironment(manifest.dotenv.values) },
  };
}

export const MANIFEST_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/apps/:app/manifest',
    permission: 'APPLICATION_VIEW_MANIFEST',
    scope: 'app',
    summary: "The app's resolved manifest (as it runs, else as it last ran): instance types with defaults applied, services, crons, health checks; values that look secret (in .env, the instances' environment, services' options) are masked",
    response: ManifestSchema,
    handle: async (context, params) => maskedManifest(await context.platform.manifestOf(appRecord(context, params.app!).name)),
  },
];
