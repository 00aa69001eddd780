-- pitstop-core client cache, version 1: one file per signed-in account.
-- Append-only once released: add a new numbered file, never edit a released one.

-- Orders and jobs. `server` is the platform's last snapshot (NULL for an order booked
-- offline and not yet acknowledged); `local` is what the user sees: the snapshot with the
-- still-pending outbox entries applied on top. Reads filter on the plain columns.
CREATE TABLE orders (
    id         INTEGER PRIMARY KEY,
    version    INTEGER NOT NULL,
    status     TEXT NOT NULL,
    plate      TEXT NOT NULL,
    vin        TEXT NOT NULL,
    customer   TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    server     TEXT,
    local      TEXT NOT NULL
);
CREATE INDEX orders_status ON orders (status, updated_at);
CREATE INDEX orders_updated ON orders (updated_at);
CREATE INDEX orders_plate ON orders (plate);
CREATE INDEX orders_vin ON orders (vin);

-- Offers made to this technician, as the platform last described them.
CREATE TABLE offers (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL,
    status     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX offers_status ON offers (status, expires_at);

-- Local actions, in order. `id` is the client-made mutation UUID the platform dedupes on.
-- Rows stay after they settle so the UI can show failures with their reason.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    op         TEXT NOT NULL,
    order_id   INTEGER,
    offer_id   INTEGER,
    created_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'applied', 'rejected', 'dismissed')),
    code       INTEGER,
    reason     TEXT,
    settled_at INTEGER
);
CREATE INDEX outbox_pending ON outbox (state, seq);
CREATE INDEX outbox_order ON outbox (order_id, state);

-- Sync bookkeeping: the pull cursor, last successful sync, this install's device id.
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- GPS fixes, stored before anything else is done with them so a killed app loses none.
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
CREATE INDEX gps_pending ON gps_fixes (uploaded, seq);

-- Latest known position of technicians this account may see (owner tracking, desk map).
CREATE TABLE positions (
    technician_id INTEGER PRIMARY KEY,
    t             INTEGER NOT NULL,
    data          TEXT NOT NULL
);
