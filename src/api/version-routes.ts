import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { ResolvedManifest } from '../manifest/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { isRemoteSource } from '../shared/source-location.js';
import { DeployResultSchema, VersionSchema } from '../shared/views.js';
import { forbidden } from './guard.js';
import { requireMayRun } from './may-run.js';
import { DeployRequestSchema, DeployUploadQuerySchema, PruneRequestSchema, PruneResultSchema, SwitchRequestSchema } from './requests.js';
import { appRecord, type ApiContext, type Route } from './route.js';

/** What an archive upload's Content-Type says it is. */
const ARCHIVE_FORMATS = {
  'application/gzip': 'tar.gz',
  'application/x-gzip': 'tar.gz',
  'application/x-tar': 'tar',
  'application/zip': 'zip',
} as const;

/** The largest archive a deploy takes. */
export const UPLOAD_LIMIT = 2 * 1024 ** 3;

/** A local source as an absolute path: a relative one against the caller's folder. */
function sourceLocation(source: string, directory: string | undefined): string {
  if (isRemoteSource(source) || isAbsolute(source)) return source;
  if (directory === undefined || !isAbsolute(directory)) {
    throw new PaasmakerError('INVALID_REQUEST', `the source "${source}" is a relative path, and no absolute directory says what it is relative to`, { hint: 'send an absolute source, or directory: the folder it is relative to' });
  }
  return resolve(directory, source);
}

/**
 * What deploying needs, checked once the version's manifest is read (before
 * anything runs): what running the app needs (as POST /api/v1/apps), and
 * APPLICATION_DEPLOY in the app's workspace.
 */
function authorizer(context: ApiContext, named: string | undefined): (manifest: ResolvedManifest) => void {
  return (manifest) => {
    const app = named ?? manifest.application.name;
    requireMayRun(context, app, manifest.application.workspace);
    const workspace = context.platform.state.workspaces.appWorkspace(app) ?? manifest.application.workspace ?? 'default';
    if (!context.access.can('APPLICATION_DEPLOY', workspace)) {
      const refusal = forbidden(context, 'APPLICATION_DEPLOY', ` in workspace "${workspace}"`);
      throw new PaasmakerError('FORBIDDEN', refusal.message, { hint: refusal.hint });
    }
  };
}

/** A version number from the path: "3" (or "v3"). */
function versionParam(params: Record<string, string>): number {
  const match = /^v?(\d+)$/.exec(params.version ?? '');
  if (!match) throw new PaasmakerError('INVALID_REQUEST', `"${params.version}" is not a version number`, { hint: `GET /api/v1/apps/${params.app}/versions lists them` });
  return Number(match[1]);
}

/** Versions of an app: deploy one (from a source, or an uploaded archive), list them, switch, roll back, prune, preview. */
export const VERSION_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/apps/:app/versions',
    permission: 'WORKSPACE_VIEW',
    scope: 'app',
    summary: "An app's deployed versions, newest first: state, which is current and previous, source, commit and message, size, URL",
    response: z.array(VersionSchema),
    handle: (context, params) => {
      appRecord(context, params.app!);
      return context.platform.versions(params.app!);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/deploys',
    permission: 'APPLICATION_DEPLOY',
    scope: 'somewhere',
    summary:
      "Deploy a version (paasmaker deploy): export the source at one commit into PAASMAKER_HOME/versions/APP/N, prepare it, start it and, unless switch is false, make it current; a job tree (\"deploy APP\") the event stream shows live. Answers once the version is current or failed (a failed deploy answers DEPLOY_FAILED with the last lines). The body is a DeployRequest, or an archive (application/gzip, application/x-tar, application/zip) with what is known of it in the query. Needs APPLICATION_DEPLOY in the app's workspace, and what running the app needs (APPLICATION_CREATE there, as POST /api/v1/apps)",
    request: DeployRequestSchema,
    upload: { types: Object.keys(ARCHIVE_FORMATS), limit: UPLOAD_LIMIT, query: DeployUploadQuerySchema, description: 'a DeployRequest, or the archive to deploy (at most 2 GiB)' },
    response: DeployResultSchema,
    handle: (context, _params, body, query: z.infer<typeof DeployUploadQuerySchema>, upload) => {
      if (upload) {
        const { app, switch: switching, ...known } = query;
        const format = ARCHIVE_FORMATS[upload.type as keyof typeof ARCHIVE_FORMATS];
        return context.platform.deploy({ source: { kind: 'upload', file: upload.file, format, ...known }, app, switch: switching !== '0' }, { authorize: authorizer(context, app) });
      }
      const request = body as z.infer<typeof DeployRequestSchema>;
      // A path (or file:// URL) is read with the platform's own rights: only its owner names one. Others send a URL or an archive.
      if (context.caller.kind !== 'owner' && (!isRemoteSource(request.source) || /^file:/i.test(request.source))) {
        throw new PaasmakerError('FORBIDDEN', 'a deploy from a path on the platform\'s machine is for its owner (the Unix socket)', { hint: 'send a repository URL git can fetch, or upload the code as an archive (Content-Type application/gzip or application/zip)' });
      }
      // An app named in the request is checked before anything is fetched.
      if (request.app !== undefined) {
        const workspace = context.platform.state.workspaces.appWorkspace(request.app);
        if (workspace !== undefined && !context.access.can('APPLICATION_DEPLOY', workspace)) {
          const refusal = forbidden(context, 'APPLICATION_DEPLOY', ` in workspace "${workspace}"`);
          throw new PaasmakerError('FORBIDDEN', refusal.message, { hint: refusal.hint });
        }
      }
      const location = sourceLocation(request.source, request.directory);
      return context.platform.deploy({ source: { location, ref: request.ref, allowDirty: request.allowDirty }, app: request.app, switch: request.switch }, { authorize: authorizer(context, request.app) });
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/switch',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: "Make a version current: its processes start (unless it runs as a preview) and become ready, the router moves APP.localhost to them, the old version's drain and stop; answers with the version once current (a version that fails never becomes current)",
    request: SwitchRequestSchema,
    response: VersionSchema,
    handle: (context, params, body) => {
      appRecord(context, params.app!);
      return context.platform.switchVersion(params.app!, (body as z.infer<typeof SwitchRequestSchema>).version);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/rollback',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: 'Make the previous version current again, as a switch does; answers with it',
    response: VersionSchema,
    handle: (context, params) => {
      appRecord(context, params.app!);
      return context.platform.rollback(params.app!);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/versions/prune',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: 'Remove all but the newest `keep` versions (never the current or the previous one), their code deleted; answers with the versions removed',
    request: PruneRequestSchema,
    response: PruneResultSchema,
    handle: async (context, params, body) => {
      appRecord(context, params.app!);
      return { removed: await context.platform.pruneVersions(params.app!, (body as z.infer<typeof PruneRequestSchema>).keep) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/versions/:version/start',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: 'Start a version as a preview: it answers on vN.APP.localhost only; answers with it once its processes settled',
    response: VersionSchema,
    handle: (context, params) => {
      appRecord(context, params.app!);
      return context.platform.previewVersion(params.app!, versionParam(params), 'start');
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/versions/:version/stop',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: 'Stop a running version that does not serve APP.localhost (a preview, or the one a switch left); answers with it',
    response: VersionSchema,
    handle: (context, params) => {
      appRecord(context, params.app!);
      return context.platform.previewVersion(params.app!, versionParam(params), 'stop');
    },
  },
];
