import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { PaasmakerError } from '../shared/errors.js';
import type { SnapshotRow } from '../shared/views.js';

/** What snapshot.json says of one snapshot: when, and a dump per service (a file of the snapshot's own folder). */
const SnapshotRecordSchema = z.object({
  app: z.string().min(1),
  name: z.string().min(1),
  /** ISO time it was taken. */
  time: z.string().min(1),
  services: z.array(
    z.object({
      service: z.string().min(1),
      plugin: z.string().min(1),
      format: z.string().min(1),
      file: z.string().refine((file) => file !== '' && file === basename(file) && file !== '.' && file !== '..', 'a file name in the snapshot\'s folder'),
      size: z.number().int().nonnegative(),
    }),
  ),
});

export type SnapshotRecord = z.infer<typeof SnapshotRecordSchema>;

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

/** Whether the app has a snapshot folder of that name (its record readable or not). */
export function hasSnapshot(home: string, app: string, name: string): boolean {
  return existsSync(snapshotDir(home, app, name));
}

/** A snapshot folder's record, checked: its files in the folder, its name the folder's; DUMP_INVALID saying what is wrong. */
function recordIn(dir: string): SnapshotRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dir, RECORD), 'utf8'));
  } catch (error) {
    throw new PaasmakerError('DUMP_INVALID', `snapshot ${basename(dir)}'s ${RECORD} cannot be read: ${(error as Error).message}`, { hint: `remove it: paasmaker db snapshot rm ${basename(dir)}` });
  }
  const checked = SnapshotRecordSchema.safeParse(parsed);
  const problem = checked.success ? (checked.data.name === basename(dir) ? undefined : `it names the snapshot "${checked.data.name}", not "${basename(dir)}"`) : checked.error.issues.map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`).join('; ');
  if (problem || !checked.success) throw new PaasmakerError('DUMP_INVALID', `snapshot ${basename(dir)}'s ${RECORD} is not a snapshot record: ${problem}`, { hint: `remove it: paasmaker db snapshot rm ${basename(dir)}` });
  return checked.data;
}

/** One snapshot's record; SNAPSHOT_NOT_FOUND when there is none of that name, DUMP_INVALID when its record is damaged. */
export function readSnapshot(home: string, app: string, name: string): SnapshotRecord {
  const dir = snapshotDir(home, app, name);
  if (!existsSync(join(dir, RECORD))) {
    const names = listSnapshots(home, app, () => {}).map((each) => each.name);
    throw new PaasmakerError('SNAPSHOT_NOT_FOUND', `${app} has no snapshot "${name}"`, { hint: `paasmaker db snapshots lists them${names.length > 0 ? `: ${names.join(', ')}` : ''}` });
  }
  return recordIn(dir);
}

/** Writes a snapshot's record into its folder (0600): to a file beside it, flushed to disk, then renamed into its place. */
export function writeSnapshot(dir: string, record: SnapshotRecord): void {
  const partial = join(dir, `.${RECORD}.${randomBytes(4).toString('hex')}`);
  const fd = openSync(partial, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(SnapshotRecordSchema.parse(record), null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, join(dir, RECORD));
}

/** A snapshot left out of a listing: its record cannot be read. */
const skipped = (line: string) => process.stderr.write(`note: ${line}\n`);

/**
 * The app's snapshots as a listing shows them, oldest first (folders being
 * made, without a record, are not listed); one whose record is damaged is
 * left out, `note` told why.
 */
export function listSnapshots(home: string, app: string, note: (line: string) => void = skipped): SnapshotRow[] {
  const dir = snapshotsOf(home, app);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && existsSync(join(dir, name, RECORD)))
    .flatMap((name) => {
      try {
        return [recordIn(join(dir, name))];
      } catch (error) {
        note(`${app}: ${(error as Error).message}; left out (paasmaker db snapshot rm ${name} removes it)`);
        return [];
      }
    })
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

/** Deletes a snapshot's folder and its dumps, its record readable or not; SNAPSHOT_NOT_FOUND when there is no folder of that name. */
export function removeSnapshot(home: string, app: string, name: string): void {
  if (!hasSnapshot(home, app, name)) readSnapshot(home, app, name);
  rmSync(snapshotDir(home, app, name), { recursive: true, force: true });
}
