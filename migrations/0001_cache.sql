-- pitstop-core client cache, version 1: one file per signed-in account.
-- Append-only: add a new numbered file, never edit a released one.

-- Orders and jobs as the server last described them (full JSON) plus the columns reads
-- filter and sort on.
CREATE TABLE orders (
    id         INTEGER PRIMARY KEY,
    status     TEXT NOT NULL,
    version    INTEGER NOT NULL,
    plate      TEXT NOT NULL,
    vin        TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX orders_status ON orders (status, updated_at);
CREATE INDEX orders_plate ON orders (plate);
CREATE INDEX orders_vin ON orders (vin);

CREATE TABLE offers (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL,
    status     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    data       TEXT NOT NULL
);

-- Local actions waiting to be pushed, in order. `id` is the client-made mutation UUID.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    op         TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'applied', 'rejected')),
    reason     TEXT
);

-- Key/value sync bookkeeping: the pull cursor, last successful sync.
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- GPS fixes, written before anything else so a killed app loses none.
CREATE TABLE gps_fixes (
    seq         INTEGER PRIMARY KEY,
    t           INTEGER NOT NULL,
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    accuracy_m  REAL NOT NULL,
    speed_mps   REAL,
    heading_deg REAL,
    uploaded    INTEGER NOT NULL DEFAULT 0
);
