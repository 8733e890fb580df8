import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';

/**
 * The kinds of file a service's dump is (ServicePlugin.dumpFormat), each with
 * the extension a dump of it is saved with and how a message names it.
 */
export const DUMP_FORMATS = {
  postgresql: { extension: '.pgdump', what: 'a PostgreSQL dump' },
  mysql: { extension: '.sql.gz', what: 'a MySQL dump (SQL text)' },
  redis: { extension: '.rdb', what: 'a Redis dump' },
  sqlite: { extension: '.sqlite.gz', what: 'a SQLite database' },
  filesystem: { extension: '.tar.gz', what: 'a tar archive of a folder' },
} as const satisfies Record<string, { extension: string; what: string }>;

export type DumpFormat = keyof typeof DUMP_FORMATS;

export function isDumpFormat(format: unknown): format is DumpFormat {
  return typeof format === 'string' && Object.hasOwn(DUMP_FORMATS, format);
}

/** The extension a dump of this format is saved with (".dump" for a format a plugin of a package made up). */
export const dumpExtension = (format: string): string => (isDumpFormat(format) ? DUMP_FORMATS[format].extension : '.dump');

/** A file's kind in words, for a message ("a Redis dump"). */
export const dumpWhat = (format: string): string => (isDumpFormat(format) ? DUMP_FORMATS[format].what : `a ${format} dump`);

/** A UTC time as a name part that sorts and fits in a file name: 20261130-071903. */
export function timeStamp(at = new Date()): string {
  return at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}

/** What a dump of an app's service is called by default: <app>-<service>-<UTC time><extension>. */
export const dumpFileName = (app: string, service: string, format: string, at = new Date()): string => `${app}-${service}-${timeStamp(at)}${dumpExtension(format)}`;

const GZIP = [0x1f, 0x8b];

/** The first bytes of a gzip file, decompressed (fewer when the file is shorter, none when it is not gzip at all). */
function gunzipHead(file: string, bytes: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const input = createReadStream(file);
    const gunzip = createGunzip();
    const done = () => {
      input.destroy();
      gunzip.destroy();
      resolve(Buffer.concat(chunks).subarray(0, bytes));
    };
    gunzip.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= bytes) done();
    });
    gunzip.on('error', done);
    gunzip.on('end', done);
    input.on('error', done);
    input.pipe(gunzip);
  });
}

/** Whether bytes read as text (a SQL script): no NUL and few control characters. */
function looksLikeText(head: Buffer): boolean {
  if (head.length === 0) return false;
  let control = 0;
  for (const byte of head) {
    if (byte === 0) return false;
    if (byte < 9 || (byte > 13 && byte < 32)) control++;
  }
  return control <= head.length / 100;
}

/** The format of decompressed (or plain) bytes, by their start. */
function formatOf(head: Buffer): DumpFormat | undefined {
  if (head.subarray(0, 5).toString('latin1') === 'PGDMP') return 'postgresql';
  if (head.subarray(0, 5).toString('latin1') === 'REDIS') return 'redis';
  if (head.subarray(0, 16).toString('latin1') === 'SQLite format 3\0') return 'sqlite';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'filesystem';
  if (looksLikeText(head)) return 'mysql';
  return undefined;
}

/**
 * What kind of dump a file is, from its first bytes: PostgreSQL's custom
 * format ("PGDMP"), a Redis RDB ("REDIS"), or gzip holding a SQLite
 * database, a tar archive ("ustar" at 257) or SQL text; plain SQLite and tar
 * files are known too. `empty` for a file with nothing in it, undefined for
 * anything else.
 */
export async function sniffDump(file: string): Promise<{ format: DumpFormat | undefined; gzip: boolean; empty: boolean }> {
  const handle = await open(file, 'r');
  let head: Buffer;
  try {
    head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    head = head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (head.length === 0) return { format: undefined, gzip: false, empty: true };
  if (head[0] === GZIP[0] && head[1] === GZIP[1]) return { format: formatOf(await gunzipHead(file, 512)), gzip: true, empty: false };
  return { format: formatOf(head), gzip: false, empty: false };
}
