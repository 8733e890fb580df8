import { z } from 'zod';
import { serviceRows } from '../engine/index.js';
import { errorText, PaasmakerError } from '../shared/errors.js';
import { JobRunSchema, ServiceSchema } from '../shared/views.js';
import { ServiceDestroyQuerySchema, ServiceDestroyRequestSchema, ServicesQuerySchema } from './requests.js';
import { answerAsJob, type Route } from './route.js';

/** The managed servers and provisioned services; destroying one, only when its name is sent back. */
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
      serviceRows(query.kind === 'server' ? [] : context.platform.services.list(query.app), query.app || query.kind === 'service' ? [] : context.platform.services.servers()),
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
      const record = context.platform.services.list(params.app).find((candidate) => candidate.service === params.service && candidate.branch === branch);
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
];
