import { z } from 'zod';
import { doctorChecks, runtimeRows } from '../engine/index.js';
import { resolveSettings } from '../shared/settings.js';
import { errorText } from '../shared/errors.js';
import { DoctorCheckSchema, JobRunSchema, RuntimeRemovedSchema, RuntimeSchema } from '../shared/views.js';
import { RuntimeInstallRequestSchema, RuntimeRemoveRequestSchema, WaitQuerySchema } from './requests.js';
import { runningPlatforms } from './platforms.js';
import { degradedPlatforms } from './degraded.js';
import { answerAsJob, type Route } from './route.js';

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
    handle: async (context) =>
      (await runtimeRows(process.env, context.platform.layout.root, context.platform.runtimePlans())).map((row) => ({
        ...row,
        installed: row.installed.map((found) => ({ ...found, usedBy: found.usedBy.filter((user) => context.mayView(user.split('/')[0]!)) })),
        instances: row.instances.filter((instance) => context.mayView(instance.app)),
      })),
  },
  {
    method: 'POST',
    path: '/api/v1/runtimes/install',
    permission: 'SYSTEM_ADMINISTRATION',
    summary: 'Install the newest release of a runtime matching a version or range under PAASMAKER_HOME/runtimes/<runtime>/<version>/ (Node.js, from the npm registry npm is configured with), as a job; answers within ?wait= seconds (default 10)',
    request: RuntimeInstallRequestSchema,
    query: WaitQuerySchema,
    response: JobRunSchema,
    handle: (context, _params, request, query: z.infer<typeof WaitQuerySchema>) => {
      const body = request as z.infer<typeof RuntimeInstallRequestSchema>;
      return answerAsJob(
        (started) =>
          context.platform.installs.install(body.runtime, body.version ?? '*', '', started).then(
            (installed) => ({ ok: true, detail: installed.downloaded ? `installed ${body.runtime} ${installed.version} in ${installed.binDir}` : `${body.runtime} ${installed.version} is installed already (${installed.binDir})` }),
            (error: unknown) => ({ ok: false, detail: errorText(error) }),
          ),
        query.wait,
      );
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/runtimes/:runtime/:version',
    permission: 'SYSTEM_ADMINISTRATION',
    summary: 'Remove a runtime version Paasmaker installed: only with the body {"confirm": "<runtime>@<version>"} (else 409 CONFIRMATION_NEEDED), and refused (409 IN_USE, naming them) while a running app or deployed version runs on it',
    request: RuntimeRemoveRequestSchema,
    response: RuntimeRemovedSchema,
    handle: (context, params, request) => context.platform.installs.remove(params.runtime!, params.version!, (request as z.infer<typeof RuntimeRemoveRequestSchema>).confirm),
  },
];
