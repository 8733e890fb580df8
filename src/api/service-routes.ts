import { z } from 'zod';
import { serviceRows } from '../engine/index.js';
import { splitAppKey } from '../shared/app-keys.js';
import { errorText, PaasmakerError } from '../shared/errors.js';
import { QUERY_LIMITS } from '../shared/limits.js';
import { DatabaseSchemaSchema, JobRunSchema, QueryResultSchema, ServiceSchema } from '../shared/views.js';
import { BranchQuerySchema, QueryRequestSchema, ServiceDestroyQuerySchema, ServiceDestroyRequestSchema, ServicesQuerySchema } from './requests.js';
import { answerAsJob, appRecord, type ApiContext, type Route } from './route.js';

/** A provisioned service of an app, as a query or a description reaches it: the app's manifest when it can be read binds its options. */
async function provisioned(context: ApiContext, app: string, service: string, branch: string | undefined) {
  const name = appRecord(context, app).name;
  const manifest = await context.platform.manifestOf(name).catch(() => undefined);
  return context.platform.services.provisioned(name, service, { manifest, branch });
}

/** The managed servers and provisioned services; reading one's data (read-only); destroying one, only when its name is sent back. */
export const SERVICE_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/services',
    permission: 'SERVICE_VIEW',
    scope: 'listed',
    summary: "The managed database servers and every provisioned service (as paasmaker services --json); ?app= keeps that app's services, ?kind= one kind",
    query: ServicesQuerySchema,
    response: z.array(ServiceSchema),
    handle: (context, _params, _body, query: z.infer<typeof ServicesQuerySchema>) =>
      serviceRows(query.kind === 'server' ? [] : (query.app ? context.platform.services.listFor(query.app) : context.platform.services.list()), query.app || query.kind === 'service' ? [] : context.platform.services.servers()),
  },
  {
    method: 'DELETE',
    path: '/api/v1/services/:app/:service',
    permission: 'APPLICATION_DELETE',
    scope: 'app',
    summary: 'Delete a provisioned service and all its data, as a job: the body must name the service ({"confirm": "<service>"}); ?branch= for a database per branch; answers within ?wait= seconds (default 10)',
    request: ServiceDestroyRequestSchema,
    query: ServiceDestroyQuerySchema,
    response: JobRunSchema,
    handle: async (context, params, request, query: z.infer<typeof ServiceDestroyQuerySchema>) => {
      const body = request as z.infer<typeof ServiceDestroyRequestSchema>;
      const branch = query.branch ?? '';
      const target = `${params.app}/${params.service}${branch ? `@${branch}` : ''}`;
      const record = context.platform.services.list(splitAppKey(params.app!).app).find((candidate) => candidate.service === params.service && candidate.branch === branch);
      if (!record) throw new PaasmakerError('SERVICE_NOT_FOUND', `no provisioned service ${target}`, { hint: 'GET /api/v1/services (paasmaker services) lists what exists' });
      if (body.confirm !== record.service) {
        throw new PaasmakerError('CONFIRMATION_NEEDED', `destroying ${target} (${record.plugin} ${record.resource}) deletes its data${body.confirm === undefined ? '' : `; "${body.confirm}" is not its name`}`, {
          hint: `send the service's name to confirm: {"confirm": "${record.service}"}`,
        });
      }
      const title = `destroy ${record.service}${record.branch ? `@${record.branch}` : ''}`;
      return answerAsJob(
        (started) =>
          context.platform.jobs
            .run(record.app, title, async (job) => {
              started(job.id);
              await context.platform.services.destroy(record);
            })
            .then(
              () => ({ ok: true, detail: `destroyed ${target} (${record.plugin} ${record.resource})` }),
              (error: unknown) => ({ ok: false, detail: errorText(error) }),
            ),
        query.wait,
      );
    },
  },
  {
    method: 'POST',
    path: '/api/v1/services/:app/:service/query',
    permission: 'SERVICE_EXPORT',
    scope: 'app',
    summary:
      'Run one read-only query (paasmaker db query): SQL in a read-only transaction on PostgreSQL and MariaDB/MySQL, on SQLite opened read-only, or one Redis read command. A write is refused by the database (READ_ONLY, 403) and changes nothing; one statement only; rows limited (limit, default 100, at most 1000) and time limited (timeout_ms, default 5000, at most 30000)',
    request: QueryRequestSchema,
    query: BranchQuerySchema,
    response: QueryResultSchema,
    handle: async (context, params, body, query: z.infer<typeof BranchQuerySchema>) => {
      const request = body as z.infer<typeof QueryRequestSchema>;
      const target = await provisioned(context, params.app!, params.service!, query.branch);
      return context.platform.services.query(target, {
        text: request.query,
        limit: request.limit ?? QUERY_LIMITS.rows.default,
        timeoutMs: request.timeout_ms ?? QUERY_LIMITS.timeoutMs.default,
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/services/:app/:service/schema',
    permission: 'SERVICE_VIEW',
    scope: 'app',
    summary: "A service's tables and views, their columns (name, type, nullable, primary key) and row estimates (paasmaker db describe); for Redis, its keys counted by type",
    query: BranchQuerySchema,
    response: DatabaseSchemaSchema,
    handle: async (context, params, _body, query: z.infer<typeof BranchQuerySchema>) =>
      context.platform.services.describe(await provisioned(context, params.app!, params.service!, query.branch)),
  },
];
