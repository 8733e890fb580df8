import { PaasmakerError } from '../shared/errors.js';
import { ProcessSchema } from '../shared/views.js';
import { appRecord, type ApiContext, type Route } from './route.js';

/** Stops or starts one process of an app, then answers with its row as it settled. */
async function control(context: ApiContext, params: Record<string, string>, action: 'stop' | 'start') {
  appRecord(context, params.app!);
  const index = Number(params.index);
  if (!/^\d+$/.test(params.index!)) throw new PaasmakerError('INSTANCE_NOT_FOUND', `no process ${params.instance}.${params.index} in ${params.app}: the index is a number`, { hint: 'GET /api/v1/processes lists them' });
  await context.platform.controlProcess(params.app!, { instance: params.instance!, index }, action);
  const row = context.platform.processes(params.app).find((candidate) => candidate.instance === params.instance && candidate.index === index);
  if (!row) throw new PaasmakerError('INSTANCE_NOT_FOUND', `no process ${params.instance}.${index} in ${params.app}`, { hint: 'GET /api/v1/processes lists them' });
  return row;
}

/** One process of an app, by its slot ("web" and 1 for web.1): stop it, start it again. */
export const PROCESS_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/api/v1/apps/:app/processes/:instance/:index/stop',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: 'Stop one process of a running app; it stays stopped (the others serve) until started again; answers with its row',
    response: ProcessSchema,
    handle: (context, params) => control(context, params, 'stop'),
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/processes/:instance/:index/start',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: 'Start again a stopped (or crashed) process of a running app; answers with its row once it settled (running, or failing)',
    response: ProcessSchema,
    handle: (context, params) => control(context, params, 'start'),
  },
];
