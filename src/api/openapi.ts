import { z } from 'zod';
import { ErrorSchema } from '../shared/views.js';
import { EventsQuerySchema } from './requests.js';
import { ROUTES } from './routes.js';

let cached: Record<string, unknown> | undefined;

/** JSON Schema of a zod schema, with named schemas as $refs into components. */
function schema(type: z.ZodType, components: Record<string, unknown>): unknown {
  const json = z.toJSONSchema(type, {
    target: 'draft-2020-12',
    io: 'output',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  // Named schemas come back as $defs references (also inside each other); point them at components.
  const rewrite = (value: unknown) => JSON.parse(JSON.stringify(value).replace(/#\/\$defs\//g, '#/components/schemas/')) as unknown;
  const defs = (json.$defs ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(defs)) components[name] = rewrite(value);
  delete json.$defs;
  delete json.$schema;
  return rewrite(json);
}

/** The query parameters of a route, from the same schema that validates them. */
function queryParameters(query: z.ZodObject | undefined, components: Record<string, unknown>): unknown[] {
  if (!query) return [];
  const json = schema(query, components) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, { description, ...rest }]) => ({
    name,
    in: 'query',
    required: (json.required ?? []).includes(name),
    ...(description ? { description } : {}),
    schema: rest,
  }));
}

/**
 * OpenAPI 3.1 for /api/v1, generated from the route table and the same zod
 * schemas that validate requests, so the document cannot drift from the API.
 */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const components: Record<string, unknown> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  const error = { description: 'An error with a code (and a hint when there is one)', content: { 'application/json': { schema: schema(ErrorSchema, components) } } };
  for (const route of ROUTES) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    // An upload's query parameters are listed too, said to be the upload's (a JSON request takes none of them).
    const uploadParameters = queryParameters(route.upload?.query, components).map((parameter) => {
      const { description, ...rest } = parameter as { description?: string };
      return { ...rest, description: `with a file body only${description ? `: ${description}` : ''}` };
    });
    const parameters = [...[...route.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })), ...queryParameters(route.query, components), ...uploadParameters];
    const bodies: Record<string, unknown> = {
      ...(route.request ? { 'application/json': { schema: schema(route.request, components) } } : {}),
      ...Object.fromEntries((route.upload?.types ?? []).map((type) => [type, { schema: { type: 'string', format: 'binary', maxLength: route.upload!.limit } }])),
    };
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      summary: route.summary,
      // What the caller needs (a permission of src/auth/permissions.ts, signed-in or anyone) and where it is checked.
      'x-permission': route.permission,
      ...(route.scope && route.scope !== 'global' ? { 'x-permission-scope': route.scope } : {}),
      ...(route.permission === 'anyone' ? { security: [] } : {}),
      operationId: `${route.method.toLowerCase()}${path.replace(/\/api\/v1/, '').replace(/[{}]/g, '').replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())}`,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(Object.keys(bodies).length > 0 ? { requestBody: { required: true, ...(route.upload ? { description: route.upload.description } : {}), content: bodies } } : {}),
      responses: {
        '200': route.produces
          ? { description: route.produces.description, content: { [route.produces.type]: { schema: { type: 'string', format: 'binary' } } } }
          : { description: 'OK', content: { 'application/json': { schema: schema(route.response, components) } } },
        default: error,
      },
    };
  }
  paths['/api/v1/events'] = {
    get: {
      summary: 'Server-Sent Events: instance.state, log.line, traffic.tick, job.update, job.log (each line of a job\'s own log as written), process.stats, app.deployed, platform.warning, request.recorded (the router\'s new requests of an app, in batches), version.changed (an app\'s versions changed) and mail.received (the mail catcher took a message of an app; only to callers with SERVICE_VIEW), in order, each with an id',
      operationId: 'getEvents',
      parameters: queryParameters(EventsQuerySchema, components),
      responses: { '200': { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
    },
  };
  cached = {
    openapi: '3.1.0',
    info: { title: 'Paasmaker API', version: '1', description: 'The API every Paasmaker face uses. On the Unix socket $PAASMAKER_HOME/paasmaker.sock, for its owner (every permission); on 127.0.0.1 when the daemon is started with --api-port, for users: an API token (Authorization: Bearer pm_…, paasmaker token create) or the session cookie paasmaker_session (POST /api/v1/session; state-changing requests then carry x-csrf-token). Each operation names the permission it needs (x-permission).' },
    servers: [{ url: 'http://localhost' }],
    paths,
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'paasmaker_session' } } },
    security: [{ bearer: [] }, { session: [] }],
  };
  return cached;
}
