import { z } from 'zod';
import { WarningSchema } from '../shared/views.js';
import { AppQuerySchema } from './requests.js';
import type { Route } from './route.js';

/** What the platform could not do as asked: the faces show it (the TUI's status line, the console). */
export const WARNING_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/warnings',
    permission: 'SYSTEM_OVERVIEW',
    scope: 'listed',
    summary: "The platform's recent warnings, oldest first (the DNS responder's port taken, a router error, an app not brought back, a full disk); ?app= keeps that app's and the platform's own. Live: platform.warning events",
    query: AppQuerySchema,
    response: z.array(WarningSchema),
    handle: (context, _params, _body, query: z.infer<typeof AppQuerySchema>) => context.platform.warnings.list(query.app),
  },
];
