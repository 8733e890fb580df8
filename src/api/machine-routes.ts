import { z } from 'zod';
import { doctorChecks, runtimeRows } from '../engine/index.js';
import { resolveSettings } from '../shared/settings.js';
import { DoctorCheckSchema, RuntimeSchema } from '../shared/views.js';
import { runningPlatforms } from './platforms.js';
import { degradedPlatforms } from './degraded.js';
import type { Route } from './route.js';

/** What the machine the platform runs on offers: doctor's checks, the runtimes. */
export const MACHINE_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/doctor',
    permission: 'SYSTEM_OVERVIEW',
    scope: 'somewhere',
    summary: "paasmaker doctor's checks, run by the platform: state and disk, the routers and DNS responders of the running platforms, https (its port, the local CA, which stores trust its root), name resolution of *.localhost and *.local.paasmaker, runtimes and database servers; each with what to fix",
    response: z.array(DoctorCheckSchema),
    handle: async (context) => {
      const { platform } = context;
      const home = platform.layout.root;
      const settings = resolveSettings();
      const apps = () => platform.state.apps.list();
      return doctorChecks({
        home,
        proxyPort: settings.proxyPort,
        dnsPort: settings.dnsPort,
        tlsPort: settings.tlsPort,
        // This platform and the others of its home (foreground `up`s beside the daemon): the ports each took.
        platforms: await runningPlatforms(home),
        owners: () => apps().flatMap((record) => (record.ownerPid ? [{ pid: record.ownerPid, startTime: record.ownerStart }] : [])),
        projects: () => apps().map((record) => ({ app: record.name, directory: record.directory, manifest: record.manifest })),
        env: process.env,
        degraded: (owners) => degradedPlatforms(home, owners),
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/runtimes',
    permission: 'SYSTEM_OVERVIEW',
    scope: 'somewhere',
    summary: 'Every runtime: the versions installed on this machine, and the version each running instance resolved to',
    response: z.array(RuntimeSchema),
    // Which apps run which runtime is shown for the apps the caller may view.
    handle: async (context) => (await runtimeRows(process.env, context.platform.runtimePlans())).map((row) => ({ ...row, instances: row.instances.filter((instance) => context.mayView(instance.app)) })),
  },
];
