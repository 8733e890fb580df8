import { z } from 'zod';
import { doctorChecks, runtimeRows } from '../engine/index.js';
import { resolveSettings } from '../shared/settings.js';
import { DoctorCheckSchema, RuntimeSchema } from '../shared/views.js';
import { runningDaemon } from './client.js';
import { degradedPlatforms } from './degraded.js';
import type { Route } from './route.js';

/** What the machine the platform runs on offers: doctor's checks, the runtimes. */
export const MACHINE_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/doctor',
    summary: "paasmaker doctor's checks, run by the platform: state and disk, the router port, name resolution of *.localhost and *.local.paasmaker; each with what to fix",
    response: z.array(DoctorCheckSchema),
    handle: (context) => {
      const { platform } = context;
      const home = platform.layout.root;
      const settings = resolveSettings();
      const daemon = runningDaemon(home);
      return doctorChecks({
        home,
        proxyPort: platform.routerPort ?? daemon?.proxyPort ?? settings.proxyPort,
        // The responder this platform runs; the configured port when it could not take one.
        dnsPort: platform.dnsPort ?? settings.dnsPort,
        daemon,
        owners: () => platform.state.apps.list().flatMap((record) => (record.ownerPid ? [{ pid: record.ownerPid, startTime: record.ownerStart }] : [])),
        degraded: (owners) => degradedPlatforms(home, owners),
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/runtimes',
    summary: 'Every runtime: the versions installed on this machine, and the version each running instance resolved to',
    response: z.array(RuntimeSchema),
    handle: (context) => runtimeRows(process.env, context.platform.runtimePlans()),
  },
];
