-- Pitstop platform schema, version 1. Migrations are append-only: never edit a released file.
-- SQL here sticks to what SQLite and PostgreSQL both accept where it can (ON CONFLICT,
-- RETURNING); see docs/architecture.md for the PostgreSQL path.

CREATE TABLE workshops (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    lat  REAL NOT NULL,
    lon  REAL NOT NULL
);

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('technician', 'desk', 'owner', 'admin')),
    name        TEXT NOT NULL,
    workshop_id INTEGER REFERENCES workshops(id),
    created_at  INTEGER NOT NULL,
    UNIQUE (role, name)
);

-- Only the SHA-256 of a bearer token is stored.
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL
);

CREATE TABLE technicians (
    account_id     INTEGER PRIMARY KEY REFERENCES accounts(id),
    skills         TEXT NOT NULL DEFAULT '[]',
    certifications TEXT NOT NULL DEFAULT '[]',
    on_shift       INTEGER NOT NULL DEFAULT 0,
    lat            REAL,
    lon            REAL,
    fix_at         INTEGER
);

CREATE TABLE vehicles (
    id          INTEGER PRIMARY KEY,
    owner_id    INTEGER REFERENCES accounts(id),
    workshop_id INTEGER REFERENCES workshops(id),
    vin         TEXT NOT NULL,
    plate       TEXT NOT NULL,
    make        TEXT NOT NULL,
    model       TEXT NOT NULL,
    year        INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX vehicles_owner ON vehicles (owner_id);
CREATE INDEX vehicles_workshop ON vehicles (workshop_id);

CREATE TABLE orders (
    id                INTEGER PRIMARY KEY,
    created_by        INTEGER NOT NULL REFERENCES accounts(id),
    owner_id          INTEGER REFERENCES accounts(id),
    workshop_id       INTEGER REFERENCES workshops(id),
    vehicle_id        INTEGER NOT NULL REFERENCES vehicles(id),
    service           TEXT NOT NULL,
    skill             TEXT NOT NULL,
    lat               REAL NOT NULL,
    lon               REAL NOT NULL,
    window_start      INTEGER NOT NULL,
    window_end        INTEGER NOT NULL,
    price_cents       INTEGER NOT NULL,
    notes             TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    technician_id     INTEGER REFERENCES accounts(id),
    unassigned_reason TEXT,
    dispatch_round    INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX orders_owner ON orders (owner_id);
CREATE INDEX orders_workshop ON orders (workshop_id);
CREATE INDEX orders_technician ON orders (technician_id, status);
CREATE INDEX orders_status ON orders (status);

CREATE TABLE order_timeline (
    id       INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    at       INTEGER NOT NULL,
    status   TEXT NOT NULL,
    actor_id INTEGER,
    note     TEXT
);
CREATE INDEX order_timeline_order ON order_timeline (order_id);

CREATE TABLE job_notes (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders(id),
    author_id  INTEGER NOT NULL REFERENCES accounts(id),
    text       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX job_notes_order ON job_notes (order_id);

CREATE TABLE parts (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders(id),
    name             TEXT NOT NULL,
    qty              INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX parts_order ON parts (order_id);

CREATE TABLE offers (
    id            INTEGER PRIMARY KEY,
    order_id      INTEGER NOT NULL REFERENCES orders(id),
    technician_id INTEGER NOT NULL REFERENCES accounts(id),
    round         INTEGER NOT NULL,
    status        TEXT NOT NULL,
    distance_m    REAL NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    decided_at    INTEGER
);
CREATE INDEX offers_order ON offers (order_id, round);
CREATE INDEX offers_technician ON offers (technician_id, status);
CREATE INDEX offers_pending ON offers (status, expires_at);

-- The change log behind sync pull and the event stream. One row per logical change;
-- change_audience says who may read it (a<account>, w<workshop>, admin).
CREATE TABLE changes (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    kind   TEXT NOT NULL,
    data   TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE TABLE change_audience (
    audience TEXT NOT NULL,
    cursor   INTEGER NOT NULL REFERENCES changes(cursor),
    PRIMARY KEY (audience, cursor)
) WITHOUT ROWID;

-- Sync push results, so a replayed mutation id gets its first answer back. `order_id` is
-- the order the mutation touched (its current snapshot is attached to answers).
CREATE TABLE mutations (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    id         TEXT NOT NULL,
    op_hash    TEXT NOT NULL,
    result     TEXT NOT NULL,
    order_id   INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, id)
) WITHOUT ROWID;

CREATE TABLE fixes (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    device_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    t           INTEGER NOT NULL,
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    accuracy_m  REAL NOT NULL,
    speed_mps   REAL,
    heading_deg REAL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, device_id, seq)
) WITHOUT ROWID;
CREATE INDEX fixes_latest ON fixes (account_id, t);
