-- Real identity: sign-in addresses, passwords (Argon2id PHC strings), sessions per device
-- with short-lived access tokens and rotating refresh tokens, one-time sign-in codes,
-- event-stream tickets, and share links that can be revoked.

-- Names stop being unique (two owners called 张伟 are two people): the accounts table is
-- rebuilt without UNIQUE (role, name), which only dev-login accounts keep. Foreign keys are
-- off while migrating (see db.rs), as SQLite's table-rebuild procedure needs.
CREATE TABLE accounts_new (
    id             INTEGER PRIMARY KEY,
    role           TEXT NOT NULL CHECK (role IN ('technician', 'desk', 'owner', 'admin')),
    name           TEXT NOT NULL,
    workshop_id    INTEGER REFERENCES workshops(id),
    created_at     INTEGER NOT NULL,
    phone          TEXT,            -- E.164, like +8613800138000
    email          TEXT,            -- lower-cased
    password_hash  TEXT,            -- Argon2id, PHC string format
    workshop_admin INTEGER NOT NULL DEFAULT 0,
    dev            INTEGER NOT NULL DEFAULT 0,  -- made by dev login
    invited_by     INTEGER REFERENCES accounts(id)
);
-- Accounts from before this version were all made by dev login.
INSERT INTO accounts_new (id, role, name, workshop_id, created_at, dev)
    SELECT id, role, name, workshop_id, created_at, 1 FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
CREATE UNIQUE INDEX accounts_dev_name ON accounts (role, name) WHERE dev = 1;
CREATE UNIQUE INDEX accounts_phone ON accounts (phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX accounts_email ON accounts (email) WHERE email IS NOT NULL;
CREATE INDEX accounts_workshop ON accounts (workshop_id);

CREATE TABLE sessions (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts(id),
    device            TEXT NOT NULL,
    refresh_hash      TEXT NOT NULL UNIQUE,
    -- The refresh token this one replaced: presenting it again means it was stolen.
    prev_refresh_hash TEXT,
    created_at        INTEGER NOT NULL,
    last_used_at      INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    revoked_at        INTEGER
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_prev ON sessions (prev_refresh_hash);

-- Access tokens now belong to a session and expire. Tokens from before this version have
-- neither: they stop working, and their devices sign in again.
ALTER TABLE tokens ADD COLUMN session_id INTEGER REFERENCES sessions(id);
ALTER TABLE tokens ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tokens_session ON tokens (session_id);
DELETE FROM tokens;

-- One live code per address; its SHA-256 (salted with the address) only.
CREATE TABLE sign_in_codes (
    address    TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE event_tickets (
    hash       TEXT PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    expires_at INTEGER NOT NULL
);

ALTER TABLE share_links ADD COLUMN revoked_at INTEGER;
