import { reloadManifest, type ResolvedManifest } from '../manifest/index.js';
import type { AppRecord } from '../state/index.js';

/** An app's manifest as it last ran: the file it was read from and the instance types chosen (up -f Procfile.dev web). */
export function recordedManifest(record: Pick<AppRecord, 'manifest' | 'onlyInstances'>): Promise<ResolvedManifest> {
  const only = record.onlyInstances ? (JSON.parse(record.onlyInstances) as string[]) : undefined;
  return reloadManifest({ file: record.manifest, only });
}
