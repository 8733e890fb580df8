import type { ResolvedManifest } from '../manifest/index.js';

/**
 * Where a version's code comes from. A location is a git repository (a path
 * to a work tree or a bare repository, or any URL git can fetch), an archive
 * (.tar.gz, .tgz, .tar, .zip) or a plain folder; `kind` forces one reading.
 * An upload is an archive file the API received, with what its sender knows
 * of it (the git hook sends the pushed commit's id, author and subject).
 */
export type SourceSpec =
  | { kind?: 'git' | 'archive' | 'folder'; location: string; ref?: string; allowDirty?: boolean }
  | { kind: 'upload'; file: string; format: 'tar.gz' | 'tar' | 'zip'; name?: string; ref?: string; commit?: string; author?: string; message?: string };

/** What a source said of itself once exported. */
export interface SourceInfo {
  kind: 'git' | 'archive' | 'folder';
  /** The repository, archive or folder, as given (or the upload's name). */
  source: string;
  ref: string | null;
  commit: string | null;
  author: string | null;
  /** The commit's subject line. */
  message: string | null;
  /** A git work tree exported with its uncommitted changes (allowDirty). */
  dirty: boolean;
}

export interface DeployRequest {
  source: SourceSpec;
  /** The app's name; default: the manifest's application.name. */
  app?: string;
  /** Make it current once ready (default true); false leaves it running as a preview on vN.APP.localhost. */
  switch?: boolean;
}

export interface DeployHooks {
  /** The deploy's job id, as soon as it exists (a face follows its tree). */
  onJob?: (id: string) => void;
  /** Called with the version's manifest before anything runs: throws to refuse (the API checks permissions here). */
  authorize?: (manifest: ResolvedManifest) => void;
}
