/**
 * Numbered migrations, applied in order inside one transaction each. Never
 * edit a migration that has shipped: add the next number.
 */
export const migrations: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE apps (
        name          TEXT PRIMARY KEY,
        directory     TEXT NOT NULL,
        manifest      TEXT NOT NULL,
        state         TEXT NOT NULL,
        owner_pid     INTEGER,
        owner_start   TEXT,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );

      CREATE TABLE instances (
        app           TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        runtime       TEXT NOT NULL,
        command       TEXT,
        quantity      INTEGER NOT NULL,
        standalone    INTEGER NOT NULL,
        PRIMARY KEY (app, name)
      );

      -- What ps shows: one row per process slot (app, instance, index).
      CREATE TABLE processes (
        app           TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        instance      TEXT NOT NULL,
        idx           INTEGER NOT NULL,
        state         TEXT NOT NULL,
        pid           INTEGER,
        port          INTEGER,
        restarts      INTEGER NOT NULL DEFAULT 0,
        running_since INTEGER,
        exit_code     INTEGER,
        exit_signal   TEXT,
        updated_at    INTEGER NOT NULL,
        PRIMARY KEY (app, instance, idx)
      );

      -- The process journal: every process group Paasmaker spawned and has not
      -- yet seen gone, with the owner that spawned it, so a later start can
      -- reap leftovers (checking pid AND start time).
      CREATE TABLE journal (
        pid           INTEGER PRIMARY KEY,
        pgid          INTEGER NOT NULL,
        start_time    TEXT NOT NULL,
        process_id    TEXT NOT NULL,
        app           TEXT,
        command       TEXT NOT NULL,
        port          INTEGER,
        owner_pid     INTEGER NOT NULL,
        owner_start   TEXT NOT NULL,
        recorded_at   INTEGER NOT NULL
      );

      CREATE TABLE prepare_runs (
        app           TEXT NOT NULL,
        instance      TEXT NOT NULL,
        fingerprint   TEXT NOT NULL,
        finished_at   INTEGER NOT NULL,
        PRIMARY KEY (app, instance)
      );
    `,
  },
  {
    version: 2,
    sql: `
      -- Router traffic, one row per app instance type per second with any request.
      CREATE TABLE traffic (
        app         TEXT NOT NULL,
        instance    TEXT NOT NULL,
        at          INTEGER NOT NULL,
        requests    INTEGER NOT NULL,
        s0          INTEGER NOT NULL,
        s1xx        INTEGER NOT NULL,
        s2xx        INTEGER NOT NULL,
        s3xx        INTEGER NOT NULL,
        s4xx        INTEGER NOT NULL,
        s5xx        INTEGER NOT NULL,
        bytes_in    INTEGER NOT NULL,
        bytes_out   INTEGER NOT NULL,
        p50         REAL,
        p90         REAL,
        p99         REAL
      );
      CREATE INDEX traffic_by_app ON traffic (app, instance, at);
    `,
  },
  {
    version: 3,
    sql: `
      -- Provisioned services: one row per app service (and branch). Secrets are not here:
      -- they live in files readable by the owner only.
      CREATE TABLE services (
        app         TEXT NOT NULL,
        service     TEXT NOT NULL,
        branch      TEXT NOT NULL DEFAULT '',
        plugin      TEXT NOT NULL,
        symbolic    TEXT NOT NULL,
        resource    TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (app, service, branch)
      );
    `,
  },
  {
    version: 4,
    sql: `
      -- Scheduled jobs of running apps: their schedule, next run and last outcome.
      CREATE TABLE crons (
        app           TEXT NOT NULL,
        name          TEXT NOT NULL,
        instance      TEXT NOT NULL,
        schedule      TEXT NOT NULL,
        target        TEXT NOT NULL,
        next_run      INTEGER,
        last_started  INTEGER,
        last_finished INTEGER,
        last_result   TEXT,
        last_detail   TEXT,
        PRIMARY KEY (app, name)
      );
    `,
  },
  {
    version: 5,
    sql: `
      -- Apps the daemon runs: brought back when the daemon starts again.
      ALTER TABLE apps ADD COLUMN daemon INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 6,
    sql: `
      -- Jobs: every action as a tree (root, parent), with its state; logs are files.
      CREATE TABLE jobs (
        id          TEXT PRIMARY KEY,
        parent      TEXT,
        root        TEXT NOT NULL,
        app         TEXT NOT NULL,
        title       TEXT NOT NULL,
        state       TEXT NOT NULL,
        detail      TEXT,
        owner_pid   INTEGER,
        owner_start TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );
      CREATE INDEX jobs_by_root ON jobs (root, created_at);
      CREATE INDEX jobs_recent ON jobs (created_at);
    `,
  },
  {
    version: 7,
    sql: `
      -- The instance types chosen (up web worker), as a JSON array; NULL: all of them.
      ALTER TABLE apps ADD COLUMN only_instances TEXT;
    `,
  },
  {
    version: 8,
    sql: `
      -- Who may use the platform over TCP and the console. The Unix socket's owner needs no row.
      -- password: "scrypt$N$r$p$salt$hash" (base64), NULL when the user signs in by one-time link or token only.
      CREATE TABLE users (
        name        TEXT PRIMARY KEY,
        password    TEXT,
        created_at  INTEGER NOT NULL,
        disabled_at INTEGER
      );
      -- Named containers of apps; "default" always exists.
      CREATE TABLE workspaces (
        name        TEXT PRIMARY KEY,
        created_at  INTEGER NOT NULL
      );
      INSERT INTO workspaces (name, created_at) VALUES ('default', 0);
      ALTER TABLE apps ADD COLUMN workspace TEXT NOT NULL DEFAULT 'default';
      -- Custom roles (the built-in ones live in code): permissions as a JSON array of names.
      CREATE TABLE roles (
        name        TEXT PRIMARY KEY,
        permissions TEXT NOT NULL,
        created_at  INTEGER NOT NULL
      );
      -- A user holds a role everywhere (workspace '') or in one workspace.
      CREATE TABLE role_allocations (
        user        TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        role        TEXT NOT NULL,
        workspace   TEXT NOT NULL DEFAULT '',
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (user, role, workspace)
      );
      -- API tokens: only their sha256 is kept (the token itself is shown once).
      CREATE TABLE api_tokens (
        id          TEXT PRIMARY KEY,
        user        TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        name        TEXT NOT NULL,
        hash        TEXT NOT NULL UNIQUE,
        created_at  INTEGER NOT NULL,
        last_used   INTEGER
      );
    `,
  },
  {
    version: 9,
    sql: `
      -- When an app was last deployed (an up that started it) and last reloaded (restart, reload on save): epoch ms.
      ALTER TABLE apps ADD COLUMN deployed_at INTEGER;
      ALTER TABLE apps ADD COLUMN reloaded_at INTEGER;
    `,
  },
  {
    version: 10,
    sql: `
      -- Deployed versions (paasmaker deploy): immutable code in PAASMAKER_HOME/versions/<app>/<number>.
      -- state: preparing | ready | failed (whether one runs is the platform's, not the file's).
      CREATE TABLE versions (
        app         TEXT NOT NULL,
        number      INTEGER NOT NULL,
        state       TEXT NOT NULL,
        kind        TEXT NOT NULL,
        source      TEXT NOT NULL,
        ref         TEXT,
        commit_id   TEXT,
        author      TEXT,
        message     TEXT,
        dirty       INTEGER NOT NULL DEFAULT 0,
        size        INTEGER NOT NULL DEFAULT 0,
        job         TEXT,
        directory   TEXT NOT NULL,
        manifest    TEXT,
        error       TEXT,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (app, number)
      );
      -- Per app: the current and previous versions, the next number (never reused), and whether the current one should run.
      CREATE TABLE version_pointers (
        app         TEXT PRIMARY KEY,
        current     INTEGER,
        previous    INTEGER,
        next        INTEGER NOT NULL DEFAULT 1,
        running     INTEGER NOT NULL DEFAULT 0
      );
    `,
  },
  {
    version: 11,
    sql: `
      -- The work tree (git checkout folder) a per-branch service was last provisioned for:
      -- services prune drops those whose checkout is gone. NULL (older rows): never pruned.
      ALTER TABLE services ADD COLUMN checkout TEXT;
    `,
  },
];
