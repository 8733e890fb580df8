import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import type { SnapshotRow } from '../shared/views.js';

/** What snapshot.json says of one snapshot: when, and a dump per service. */
export interface SnapshotRecord {
  app: string;
  name: string;
  /** ISO time it was taken. */
  time: string;
  services: Array<{ service: string; plugin: string; format: string; file: string; size: number }>;
}

const RECORD = 'snapshot.json';

/** PAASMAKER_HOME/snapshots/<app>: the app's snapshots, a folder each (mode 0700). */
export const snapshotsOf = (home: string, app: string): string => join(home, 'snapshots', app);

/** A snapshot's name is a word of letters, digits, dots, dashes and underscores: no slashes, not dots alone. */
export function checkSnapshotName(name: string): void {
  if (/^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/.test(name)) return;
  throw new PaasmakerError('USAGE', `"${name}" is not a snapshot name`, { hint: 'letters, digits, ".", "-" and "_", starting with a letter, digit or "_" (at most 100): before-migration, 2026-05-01' });
}

/** The snapshot's folder, its name checked. */
export function snapshotDir(home: string, app: string, name: string): string {
  checkSnapshotName(name);
  return join(snapshotsOf(home, app), name);
}

/** One snapshot's record; SNAPSHOT_NOT_FOUND when there is none of that name. */
export function readSnapshot(home: string, app: string, name: string): SnapshotRecord {
  const file = join(snapshotDir(home, app, name), RECORD);
  if (!existsSync(file)) throw new PaasmakerError('SNAPSHOT_NOT_FOUND', `${app} has no snapshot "${name}"`, { hint: `paasmaker db snapshots lists them${listSnapshots(home, app).length > 0 ? `: ${listSnapshots(home, app).map((each) => each.name).join(', ')}` : ''}` });
  return JSON.parse(readFileSync(file, 'utf8')) as SnapshotRecord;
}

/** Writes a snapshot's record into its folder (0600). */
export function writeSnapshot(dir: string, record: SnapshotRecord): void {
  writeFileSync(join(dir, RECORD), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

/** The app's snapshots as a listing shows them, oldest first (folders being made, without a record, are not listed). */
export function listSnapshots(home: string, app: string): SnapshotRow[] {
  const dir = snapshotsOf(home, app);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && existsSync(join(dir, name, RECORD)))
    .map((name) => JSON.parse(readFileSync(join(dir, name, RECORD), 'utf8')) as SnapshotRecord)
    .map((record) => ({ app: record.app, name: record.name, time: record.time, size: record.services.reduce((sum, each) => sum + each.size, 0), services: record.services.map((each) => each.service) }))
    .sort((a, b) => a.time.localeCompare(b.time) || a.name.localeCompare(b.name));
}

/** Makes the app's snapshot folder's parent (0700 down from snapshots/). */
export function ensureSnapshotsOf(home: string, app: string): string {
  mkdirSync(join(home, 'snapshots'), { recursive: true, mode: 0o700 });
  const dir = snapshotsOf(home, app);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Deletes a snapshot and its dumps; SNAPSHOT_NOT_FOUND when there is none of that name. */
export function removeSnapshot(home: string, app: string, name: string): void {
  readSnapshot(home, app, name);
  rmSync(snapshotDir(home, app, name), { recursive: true, force: true });
}
