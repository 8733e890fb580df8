import { z } from 'zod';
import { pluginRows } from '../plugins/rows.js';
import { PluginSchema } from '../shared/views.js';
import type { Route } from './route.js';

/** The plugins the platform loaded (or could not load) at start. */
export const PLUGIN_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/plugins',
    permission: 'SYSTEM_OVERVIEW',
    scope: 'somewhere',
    summary: "Paasmaker's built-in runtimes and services, and each plugin config.yml lists: where it came from, what it provides, and whether it loaded (why not, positioned in config.yml)",
    response: z.array(PluginSchema),
    handle: () => pluginRows(),
  },
];
