import { z } from 'zod';
import type { RequestFilter } from '../proxy/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { RequestRecordSchema, type RequestRecordRow } from '../shared/views.js';
import { RequestLogQuerySchema } from './requests.js';
import { appRecord, type Route } from './route.js';

type Query = z.infer<typeof RequestLogQuerySchema>;

/** The query as the request log's filter. */
function filterOf(query: Query): RequestFilter {
  const filter: RequestFilter = { limit: query.limit, path: query.path };
  if (query.since !== undefined) {
    if (/^\d+$/.test(query.since)) filter.sinceId = Number(query.since);
    else {
      const time = Date.parse(query.since);
      if (!Number.isFinite(time)) throw new PaasmakerError('INVALID_REQUEST', `since: "${query.since}" is not a time`, { hint: 'a request id (the last one seen) or an ISO time such as 2026-05-01T12:00:00Z' });
      filter.sinceTime = time;
    }
  }
  if (query.status === 'none') filter.status = { class: 0 };
  else if (query.status?.endsWith('xx')) filter.status = { class: Number(query.status[0]) };
  else if (query.status !== undefined) filter.status = { exact: Number(query.status) };
  return filter;
}

/** The request inspector: an app's last requests through the router, kept in its memory only. */
export const REQUEST_LOG_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/apps/:app/requests',
    permission: 'WORKSPACE_VIEW',
    scope: 'app',
    summary:
      "The app's last requests through the router (300 per app unless PAASMAKER_REQUEST_LOG says otherwise), oldest first: method, path, status, duration, bytes, client, the process that answered, headers with credentials redacted, never bodies; ?since= (an id or an ISO time), ?status= (404, 5xx, none), ?path= (contains), ?limit= (the newest N). New ones arrive on the event stream as request.recorded",
    query: RequestLogQuerySchema,
    response: z.array(RequestRecordSchema),
    handle: (context, params, _body, query: Query): RequestRecordRow[] => {
      const record = appRecord(context, params.app!);
      const records = context.platform.recentRequests(record.name, filterOf(query));
      if (records === undefined) {
        throw new PaasmakerError('CONFIG_INVALID', 'the request inspector is off on this platform: it keeps no requests', {
          hint: 'it is off when the platform started with PAASMAKER_REQUEST_LOG=0 (or without its router): restart the daemon without it (paasmaker daemon stop, then start)',
        });
      }
      return records;
    },
  },
];
