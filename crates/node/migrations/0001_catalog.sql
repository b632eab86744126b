-- The catalog, users and roles, the transaction log. Record tables (r<id>) are created at run time.
CREATE TABLE node_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE databases (
    name    TEXT PRIMARY KEY NOT NULL,
    created REAL NOT NULL
);

CREATE TABLE tables (
    id             INTEGER PRIMARY KEY,
    database       TEXT NOT NULL REFERENCES databases(name),
    name           TEXT NOT NULL,
    primary_key    TEXT NOT NULL,
    expiration     INTEGER,
    schema_defined INTEGER NOT NULL DEFAULT 0,
    -- Maintained in the same transaction as every write, so describe_table never scans.
    record_count   INTEGER NOT NULL DEFAULT 0,
    last_updated   REAL,
    created        REAL NOT NULL,
    UNIQUE (database, name)
);

CREATE TABLE attributes (
    table_id INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    type     TEXT,
    indexed  INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (table_id, name)
);

CREATE TABLE roles (
    id         TEXT PRIMARY KEY NOT NULL,
    permission TEXT NOT NULL,
    created    REAL NOT NULL,
    updated    REAL NOT NULL
);

CREATE TABLE users (
    username      TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL REFERENCES roles(id),
    active        INTEGER NOT NULL DEFAULT 1,
    created       REAL NOT NULL,
    updated       REAL NOT NULL
);

-- Every committed write, in commit order. `id` is monotonic and never reused (AUTOINCREMENT).
CREATE TABLE txn_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    origin    TEXT NOT NULL,
    channel   TEXT NOT NULL,
    operation TEXT NOT NULL,
    user      TEXT,
    records   TEXT NOT NULL,
    ts        REAL NOT NULL
);

CREATE TABLE jobs (
    id       TEXT PRIMARY KEY NOT NULL,
    type     TEXT NOT NULL,
    status   TEXT NOT NULL,
    message  TEXT NOT NULL,
    result   TEXT,
    created  REAL NOT NULL,
    finished REAL
);
