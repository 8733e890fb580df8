#!/usr/bin/env node
// Dump and restore of a ~100 MB PostgreSQL database in the platform's managed cluster (a
// temporary PAASMAKER_HOME), each variant timed in the same rounds, alternated:
//   raw       — pg_dump -Fc --no-owner --no-privileges, then pg_restore with the same flags and
//               --exit-on-error into a database made beforehand (not timed), as the service's role;
//   raw -j 2  — the same restore with two jobs;
//   platform  — the postgres plugin's dump() and restore() (dist/): pg_dump's output streamed into
//               the file; the file checked, a fresh database made, the file streamed into
//               pg_restore as the service's role, swapped in, the old one dropped.
// Printed: medians per variant and the ratios platform/raw. ROUNDS (default 3) the rounds,
// SIZE_MB (default 100) the database's size; --json FILE writes the numbers there (nothing else
// is written outside the temporary folders). Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { Services, findBinary } = await import(join(root, 'dist/src/services/index.js'));
const { State } = await import(join(root, 'dist/src/state/index.js'));
const { Supervisor } = await import(join(root, 'dist/src/supervisor/index.js'));
const { loadManifest } = await import(join(root, 'dist/src/manifest/index.js'));

const rounds = Number(process.env.ROUNDS ?? 3);
const sizeMb = Number(process.env.SIZE_MB ?? 100);
const jsonOut = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (started) => Number(process.hrtime.bigint() - started) / 1e6;
const fmt = (milliseconds) => `${(milliseconds / 1000).toFixed(2)} s`;
const temp = (prefix) => mkdtempSync(join(tmpdir(), prefix));

function run(argv, env = {}) {
  const result = spawnSync(argv[0], argv.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${result.stderr}`);
  return result.stdout.trim();
}

async function timed(fn) {
  const started = process.hrtime.bigint();
  await fn();
  return ms(started);
}

// One platform's services in a temporary home, one app with a managed postgres service.
const home = temp('pm-bench-snap-home-');
const project = temp('pm-bench-snap-project-');
const dumps = temp('pm-bench-snap-dumps-');
writeFileSync(join(project, 'paasmaker.yml'), 'application:\n  name: snap\ninstances:\n  web:\n    command: sleep 60\nservices:\n  db:\n    plugin: postgres\n');
const state = State.open(join(home, 'state.db'));
const supervisor = new Supervisor();
const services = new Services({ home, state, supervisor, env: process.env, say: () => {} });

try {
  const manifest = loadManifest(project);
  const [{ credentials }] = await services.provision(manifest);
  const plugin = services.plugin('postgres');
  const request = { app: 'snap', service: 'db', branch: '', symbolic: 'postgres', options: services.bind(manifest, manifest.services[0]).options };
  const binDir = plugin.cluster().binDir;
  const pgDump = findBinary(['pg_dump'], process.env, binDir);
  const pgRestore = findBinary(['pg_restore'], process.env, binDir);
  const psqlBin = findBinary(['psql'], process.env, binDir);
  // The administrator on the cluster's socket (as the plugin's dump connects), the service's role over TCP (as its restore does).
  const admin = ['-h', join(home, 'services', 'postgres', 'run'), '-p', String(credentials.port), '-U', 'paasmaker'];
  const asRole = (database) => ['-h', '127.0.0.1', '-p', String(credentials.port), '-U', credentials.username, '-d', database];
  const roleEnv = { PGPASSWORD: credentials.password };
  const adminSql = (sql) => run([psqlBin, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', ...admin, '-d', 'postgres', '-c', sql]);

  // ~SIZE_MB: an events table (two indexes) and an accounts table, written as the app.
  const events = Math.round(sizeMb * 4500);
  const started = process.hrtime.bigint();
  run(
    [
      psqlBin, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...asRole(credentials.database), '-c',
      `CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL UNIQUE, created timestamptz NOT NULL);
       INSERT INTO accounts SELECT g, 'user' || g || '@example.com', now() - g * interval '1 minute' FROM generate_series(1, ${Math.round(events / 10)}) g;
       CREATE TABLE events (id bigint PRIMARY KEY, account int NOT NULL REFERENCES accounts, at timestamptz NOT NULL, kind text NOT NULL, payload text NOT NULL);
       INSERT INTO events SELECT g, 1 + g % ${Math.round(events / 10)}, now() - g * interval '1 second', (ARRAY['view','click','buy','leave'])[1 + g % 4], md5(g::text) || md5((g * 7)::text)
         FROM generate_series(1, ${events}) g;
       CREATE INDEX events_account_at ON events (account, at);`,
      '-c', 'VACUUM ANALYZE',
    ],
    roleEnv,
  );
  const databaseBytes = Number(adminSql(`SELECT pg_database_size('${credentials.database}')`));
  console.log(`built "${credentials.database}": ${(databaseBytes / 1e6).toFixed(0)} MB (${events} events) in ${fmt(ms(started))}`);
  const rows = () => run([psqlBin, '-X', '-tA', ...asRole(credentials.database), '-c', 'SELECT count(*) FROM events'], roleEnv);
  const expected = rows();

  // A raw restore goes into a database made beforehand (its CREATE timed apart), owned by the service's role.
  let spare = 0;
  const rawRestore = (jobs) => async (file) => {
    const database = `snap_raw_${process.pid}_${spare++}`;
    const create = await timed(() => adminSql(`CREATE DATABASE ${database} OWNER ${credentials.username} ENCODING 'UTF8' TEMPLATE template0`));
    const restore = await timed(() => run([pgRestore, '--no-owner', '--no-privileges', '--exit-on-error', ...(jobs > 1 ? ['-j', String(jobs)] : []), ...asRole(database), file], roleEnv));
    // What PostgreSQL still owes the disk for the load (DROP DATABASE forces it): timed apart, not counted.
    const checkpoint = await timed(() => adminSql('CHECKPOINT'));
    adminSql(`DROP DATABASE ${database}`);
    return { restore, create, checkpoint };
  };
  const rawDump = async (file) => timed(() => run([pgDump, '-Fc', '--no-owner', '--no-privileges', ...admin, '-d', credentials.database, '-f', file]));
  const step = { say: () => {} };

  /**
   * What is measured: each variant dumps the service's database to a file and restores that
   * file, timed apart: dump(file) resolves with its milliseconds, restore(file) with
   * { restore } (milliseconds) and any parts it timed apart. A variant through the CLI
   * (`paasmaker db snapshot`, when it lands) is one more entry with the same two functions.
   */
  const variants = [
    { name: 'raw: pg_dump -Fc + pg_restore', reference: true, dump: rawDump, restore: rawRestore(1) },
    { name: 'raw: pg_dump -Fc + pg_restore -j 2', dump: rawDump, restore: rawRestore(2) },
    {
      name: 'platform: dump() + restore()',
      dump: (file) => timed(() => plugin.dump(request, file, step)),
      restore: async (file) => {
        // Its phases, from the lines it says: before the load (check, provision, CREATE DATABASE), the load, after it (swap, DROP old).
        const said = [];
        const started = process.hrtime.bigint();
        await plugin.restore(request, file, { say: (line) => said.push({ line, at: ms(started) }) });
        const restore = ms(started);
        if (rows() !== expected) throw new Error('the platform restore lost rows');
        const loading = said.find(({ line }) => line.startsWith('restoring ') && line.includes('into a fresh database')).at;
        const loaded = said.find(({ line }) => line.startsWith('restored into a fresh database')).at;
        return { restore, phases: { before: loading, load: loaded - loading, after: restore - loaded } };
      },
    },
  ];

  const describe = (phases) => `before the load ${fmt(phases.before)}, pg_restore ${fmt(phases.load)}, swap and drop ${fmt(phases.after)}`;
  const samples = new Map(variants.map((variant) => [variant.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      const file = join(dumps, `round${round}.pgdump`);
      const dump = await variant.dump(file);
      const bytes = statSync(file).size;
      const { restore, create, checkpoint, phases } = await variant.restore(file);
      rmSync(file, { force: true });
      samples.get(variant.name).push({ dump, restore, create, checkpoint, phases, bytes });
      const detail = create !== undefined ? ` (+ CREATE DATABASE ${fmt(create)}, then CHECKPOINT ${fmt(checkpoint)})` : phases ? ` (${describe(phases)})` : '';
      console.log(`round ${round + 1} ${variant.name}: dump ${fmt(dump)}, restore ${fmt(restore)}${detail}`);
    }
  }

  const results = variants.map((variant) => {
    const runs = samples.get(variant.name);
    const dump = median(runs.map((r) => r.dump));
    const restore = median(runs.map((r) => r.restore));
    const total = median(runs.map((r) => r.dump + r.restore));
    const create = runs[0].create === undefined ? undefined : median(runs.map((r) => r.create));
    const checkpoint = runs[0].checkpoint === undefined ? undefined : median(runs.map((r) => r.checkpoint));
    const phases = runs[0].phases && Object.fromEntries(Object.keys(runs[0].phases).map((key) => [key, median(runs.map((r) => r.phases[key]))]));
    return { name: variant.name, reference: variant.reference ?? false, dump, restore, total, create, checkpoint, phases, dumpBytes: median(runs.map((r) => r.bytes)) };
  });
  const reference = results.find((result) => result.reference);
  const pad = (text, n) => String(text).padEnd(n);
  console.log(`\nsnapshot of a ${(databaseBytes / 1e6).toFixed(0)} MB PostgreSQL database, median of ${rounds} rounds; ${new Date().toISOString()}`);
  console.log(`${pad('variant', 38)}${pad('dump', 10)}${pad('restore', 10)}${pad('total', 10)}${pad('file', 10)}ratio to raw (dump / restore / total)`);
  for (const result of results) {
    const ratio = (key) => (result[key] / reference[key]).toFixed(2);
    console.log(
      `${pad(result.name, 38)}${pad(fmt(result.dump), 10)}${pad(fmt(result.restore), 10)}${pad(fmt(result.total), 10)}${pad(`${(result.dumpBytes / 1e6).toFixed(1)} MB`, 10)}${result.reference ? '—' : `${ratio('dump')} / ${ratio('restore')} / ${ratio('total')}`}${result.create === undefined ? '' : `  (not counted: CREATE DATABASE beforehand ${fmt(result.create)}, CHECKPOINT after ${fmt(result.checkpoint)})`}`,
    );
    if (result.phases) console.log(`${pad('', 38)}restore: ${describe(result.phases)}`);
  }
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ date: new Date().toISOString(), databaseBytes, rounds, results }, null, 2)}\n`);
} finally {
  await services.close();
  await supervisor.stopAll();
  state.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(project, { recursive: true, force: true });
  rmSync(dumps, { recursive: true, force: true });
}
