#!/usr/bin/env node
// Dump and restore of a ~100 MB PostgreSQL database in the platform's managed cluster (a
// temporary PAASMAKER_HOME), each variant timed in the same rounds, alternated:
//   raw       — pg_dump -Fc --no-owner --no-privileges, then pg_restore with the same flags and
//               --exit-on-error into a database made beforehand (not timed), as the service's role;
//   raw -j 2  — the same restore with two jobs;
//   platform  — the postgres plugin's dump() and restore() (dist/): pg_dump's output streamed into
//               the file; the file checked, a fresh database made, the file streamed into
//               pg_restore as the service's role, swapped in, the old one dropped;
//   CLI       — what a user types, `paasmaker db snapshot NAME` and `paasmaker db snapshot
//               restore NAME --yes` (bin/, process start to exit), against a daemon of a second
//               temporary PAASMAKER_HOME (`paasmaker up -d`: its own cluster, the same data
//               loaded into its app's database) running the app with a web process; each
//               command's job read back from the daemon's API to time its parts.
// Printed: medians per variant and the ratios to raw. ROUNDS (default 3) the rounds,
// SIZE_MB (default 100) the database's size; --json FILE writes the numbers there (nothing else
// is written outside the temporary folders). Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, median, root } from './lib.mjs';

const { Services, findBinary } = await import(join(root, 'dist/src/services/index.js'));
const { State } = await import(join(root, 'dist/src/state/index.js'));
const { Supervisor } = await import(join(root, 'dist/src/supervisor/index.js'));
const { loadManifest } = await import(join(root, 'dist/src/manifest/index.js'));
const { callApi, daemonSocket } = await import(join(root, 'dist/src/api/index.js'));
// A connection per API call: spawnSync holds this process's loop while a kept-alive one is closed by the daemon (EPIPE on reuse).
http.globalAgent = new http.Agent({ keepAlive: false });

const rounds = Number(process.env.ROUNDS ?? 3);
const sizeMb = Number(process.env.SIZE_MB ?? 100);
const jsonOut = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;
const ms = (started) => Number(process.hrtime.bigint() - started) / 1e6;
const fmt = (milliseconds) => `${(milliseconds / 1000).toFixed(2)} s`;
const temp = (prefix) => mkdtempSync(join(tmpdir(), prefix));

function run(argv, env = {}) {
  const result = spawnSync(argv[0], argv.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${result.stderr}`);
  return result.stdout.trim();
}

/** A CLI command against the daemon's home, timed from its process's start to its exit. */
function cli(home, args) {
  const env = { PAASMAKER_HOME: home, NO_COLOR: '1', PAASMAKER_PROXY_PORT: '0', PAASMAKER_DNS_PORT: '0', PAASMAKER_TLS_PORT: '0' };
  const started = process.hrtime.bigint();
  const stdout = run([bin, ...args], env);
  return { took: ms(started), stdout };
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
// The CLI's: a home of its own (a daemon and its cluster; never this process's cluster's folder), an app with a web process.
const cliHome = temp('pm-bench-snap-cli-home-');
const cliProject = temp('pm-bench-snap-cli-project-');
writeFileSync(join(cliProject, 'paasmaker.yml'), 'application:\n  name: snapcli\ninstances:\n  web:\n    command: node server.js\nservices:\n  db:\n    plugin: postgres\n');
writeFileSync(join(cliProject, 'server.js'), "require('node:http').createServer((req, res) => res.end('ok\\n')).listen(Number(process.env.PORT), '127.0.0.1');\n");
let daemonStarted = false;
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

  // ~SIZE_MB: an events table (two indexes) and an accounts table, written as the app (connection: psql's arguments for it).
  const events = Math.round(sizeMb * 4500);
  const build = (connection, env) =>
    run(
      [
        psqlBin, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...connection, '-c',
        `CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL UNIQUE, created timestamptz NOT NULL);
         INSERT INTO accounts SELECT g, 'user' || g || '@example.com', now() - g * interval '1 minute' FROM generate_series(1, ${Math.round(events / 10)}) g;
         CREATE TABLE events (id bigint PRIMARY KEY, account int NOT NULL REFERENCES accounts, at timestamptz NOT NULL, kind text NOT NULL, payload text NOT NULL);
         INSERT INTO events SELECT g, 1 + g % ${Math.round(events / 10)}, now() - g * interval '1 second', (ARRAY['view','click','buy','leave'])[1 + g % 4], md5(g::text) || md5((g * 7)::text)
           FROM generate_series(1, ${events}) g;
         CREATE INDEX events_account_at ON events (account, at);`,
        '-c', 'VACUUM ANALYZE',
      ],
      env,
    );
  const size = (connection, env) => Number(run([psqlBin, '-X', '-tA', ...connection, '-c', 'SELECT pg_database_size(current_database())'], env));
  const count = (connection, env) => run([psqlBin, '-X', '-tA', ...connection, '-c', 'SELECT count(*) FROM events'], env);
  const started = process.hrtime.bigint();
  build(asRole(credentials.database), roleEnv);
  const databaseBytes = size(asRole(credentials.database), roleEnv);
  console.log(`built "${credentials.database}": ${(databaseBytes / 1e6).toFixed(0)} MB (${events} events) in ${fmt(ms(started))}`);
  const rows = () => count(asRole(credentials.database), roleEnv);
  const expected = rows();

  // The daemon of the CLI's home, running the app; the same data loaded into its database with the app's DATABASE_URL.
  daemonStarted = true;
  const up = cli(cliHome, ['up', '-d', cliProject]);
  console.log(`paasmaker up -d (a daemon, its cluster, the app's database and web process) in ${fmt(up.took)}`);
  const appUrl = ['-d', JSON.parse(cli(cliHome, ['env', cliProject, '--json', '--show-secrets']).stdout).DATABASE_URL];
  const cliStarted = process.hrtime.bigint();
  build(appUrl, {});
  console.log(`built the app's database through DATABASE_URL: ${(size(appUrl, {}) / 1e6).toFixed(0)} MB in ${fmt(ms(cliStarted))}`);
  if (count(appUrl, {}) !== expected) throw new Error("the app's database differs");

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

  // The postgres plugin's restore, in three parts from the lines it says (line: text, at: ms since it began, end: ms it took).
  const restorePhases = (said, end) => {
    const loading = said.find(({ line }) => line.startsWith('restoring ') && line.includes('into a fresh database')).at;
    const loaded = said.find(({ line }) => line.startsWith('restored into a fresh database')).at;
    return { 'before the load': loading, pg_restore: loaded - loading, 'swap and drop': end - loaded };
  };

  // The CLI's job, read back from the daemon: its tree (createdAt/updatedAt in ms) and each job's log lines (ISO times).
  const socket = daemonSocket(cliHome);
  const jobOf = async (title) => {
    const roots = await callApi(socket, 'GET', '/api/v1/jobs?app=snapcli');
    const root = roots.find((job) => job.title === title);
    const tree = await callApi(socket, 'GET', `/api/v1/jobs/${encodeURIComponent(root.id)}`);
    const log = async (job) => (await callApi(socket, 'GET', `/api/v1/jobs/${encodeURIComponent(job.id)}/log`)).map(({ time, line }) => ({ line, at: Date.parse(time) }));
    return { root, tree, log };
  };
  const span = (job) => job.updatedAt - job.createdAt;
  // A CLI command with one API call and nothing else (CLI start, the manifest read, a GET): what every command pays.
  const floor = () => cli(cliHome, ['db', 'snapshots', '--json', '-C', cliProject]).took;
  let snapshot = '';
  let taken = 0;

  /**
   * What is measured: each variant dumps the service's database to a file and restores that
   * file, timed apart: dump(file) resolves with its milliseconds (or { dump, bytes, phases }
   * when the file is its own), restore(file) with { restore } (milliseconds) and any parts it
   * timed apart (phases: a name each).
   */
  const variants = [
    { name: 'raw: pg_dump -Fc + pg_restore', reference: true, dump: rawDump, restore: rawRestore(1) },
    { name: 'raw: pg_dump -Fc + pg_restore -j 2', dump: rawDump, restore: rawRestore(2) },
    {
      name: 'platform: dump() + restore()',
      dump: (file) => timed(() => plugin.dump(request, file, step)),
      restore: async (file) => {
        const said = [];
        const started = process.hrtime.bigint();
        await plugin.restore(request, file, { say: (line) => said.push({ line, at: ms(started) }) });
        const restore = ms(started);
        if (rows() !== expected) throw new Error('the platform restore lost rows');
        return { restore, phases: restorePhases(said, restore) };
      },
    },
    {
      name: 'CLI: db snapshot + snapshot restore',
      dump: async () => {
        snapshot = `round${++taken}`;
        const { took } = cli(cliHome, ['db', 'snapshot', snapshot, '-C', cliProject]);
        const { root, tree } = await jobOf(`snapshot ${snapshot}`);
        const dump = tree.find((job) => job.title === 'dump db');
        const [{ size: bytes }] = JSON.parse(cli(cliHome, ['db', 'snapshots', '--json', '-C', cliProject]).stdout).filter((row) => row.name === snapshot);
        const phases = { 'CLI outside the job': took - span(root), 'job before pg_dump': dump.createdAt - root.createdAt, 'dump step': span(dump), 'record, rename': root.updatedAt - dump.updatedAt, 'CLI floor': floor() };
        return { dump: took, bytes, phases };
      },
      restore: async () => {
        const { took } = cli(cliHome, ['db', 'snapshot', 'restore', snapshot, '--yes', '-C', cliProject]);
        const { root, tree, log } = await jobOf(`snapshot restore ${snapshot}`);
        const step = tree.find((job) => job.title === 'restore db');
        const lines = await log(root);
        const stopping = lines.find(({ line }) => line.startsWith("stopping snapcli's processes")).at;
        const starting = lines.findIndex(({ line }) => line.startsWith("starting snapcli's processes again"));
        const states = lines[starting + 1];
        if (!states.line.startsWith('web.0: ') || states.line.includes('not started')) throw new Error(`the app's process after the restore: ${states.line}`);
        const said = (await log(step)).map(({ line, at }) => ({ line, at: at - step.createdAt }));
        if (count(appUrl, {}) !== expected) throw new Error('the CLI restore lost rows');
        cli(cliHome, ['db', 'snapshot', 'rm', snapshot, '--yes', '-C', cliProject]);
        const phases = {
          'CLI outside the job': took - span(root),
          'checks': stopping - root.createdAt,
          'stop web': step.createdAt - stopping,
          ...restorePhases(said, span(step)),
          'start web': states.at - lines[starting].at,
          'CLI floor': floor(),
        };
        return { restore: took, phases };
      },
    },
  ];

  const describe = (phases) => Object.entries(phases).map(([part, took]) => `${part} ${fmt(took)}`).join(', ');
  const samples = new Map(variants.map((variant) => [variant.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      const file = join(dumps, `round${round}.pgdump`);
      const made = await variant.dump(file);
      const { dump, bytes, phases: dumpPhases } = typeof made === 'number' ? { dump: made, bytes: statSync(file).size } : made;
      const { restore, create, checkpoint, phases } = await variant.restore(file);
      rmSync(file, { force: true });
      samples.get(variant.name).push({ dump, restore, create, checkpoint, dumpPhases, phases, bytes });
      const detail = create !== undefined ? ` (+ CREATE DATABASE ${fmt(create)}, then CHECKPOINT ${fmt(checkpoint)})` : phases ? ` (${describe(phases)})` : '';
      console.log(`round ${round + 1} ${variant.name}: dump ${fmt(dump)}${dumpPhases ? ` (${describe(dumpPhases)})` : ''}, restore ${fmt(restore)}${detail}`);
    }
  }

  const medians = (parts) => parts[0] && Object.fromEntries(Object.keys(parts[0]).map((key) => [key, median(parts.map((each) => each[key]))]));
  const results = variants.map((variant) => {
    const runs = samples.get(variant.name);
    const dump = median(runs.map((r) => r.dump));
    const restore = median(runs.map((r) => r.restore));
    const total = median(runs.map((r) => r.dump + r.restore));
    const create = runs[0].create === undefined ? undefined : median(runs.map((r) => r.create));
    const checkpoint = runs[0].checkpoint === undefined ? undefined : median(runs.map((r) => r.checkpoint));
    return { name: variant.name, reference: variant.reference ?? false, dump, restore, total, create, checkpoint, dumpPhases: medians(runs.map((r) => r.dumpPhases)), phases: medians(runs.map((r) => r.phases)), dumpBytes: median(runs.map((r) => r.bytes)) };
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
    if (result.dumpPhases) console.log(`${pad('', 38)}dump: ${describe(result.dumpPhases)}`);
    if (result.phases) console.log(`${pad('', 38)}restore: ${describe(result.phases)}`);
  }
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ date: new Date().toISOString(), databaseBytes, rounds, results }, null, 2)}\n`);
} finally {
  await services.close();
  await supervisor.stopAll();
  state.close();
  // The daemon stops its app and cluster; killed if it does not.
  if (daemonStarted) {
    let pid;
    try {
      pid = JSON.parse(readFileSync(join(cliHome, 'daemon.json'), 'utf8')).pid;
    } catch {}
    spawnSync(bin, ['daemon', 'stop'], { env: { ...process.env, PAASMAKER_HOME: cliHome }, stdio: 'ignore' });
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
  for (const dir of [home, project, dumps, cliHome, cliProject]) rmSync(dir, { recursive: true, force: true });
}
