-- Places: an order's service location in words with a note for finding the car, workshop
-- addresses, owners' saved places, and masked-contact PINs for calling a customer.
ALTER TABLE orders ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN place_note TEXT NOT NULL DEFAULT '';
ALTER TABLE workshops ADD COLUMN address TEXT NOT NULL DEFAULT '';
-- What a technician earns of an order's price: the workshop's share rule (percent of the
-- price), fixed on the order when it is assigned.
ALTER TABLE workshops ADD COLUMN payout_percent INTEGER NOT NULL DEFAULT 70;
ALTER TABLE orders ADD COLUMN payout_cents INTEGER;
-- The car a technician drives, so customers recognise it.
ALTER TABLE technicians ADD COLUMN vehicle TEXT NOT NULL DEFAULT '';

CREATE TABLE places (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    label      TEXT NOT NULL,
    address    TEXT NOT NULL,
    lat        REAL NOT NULL,
    lon        REAL NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX places_account ON places (account_id);

-- One PIN per job and technician: the relay connects a call or text that comes with it to
-- the customer while the job runs (checked at connect time, so it stops when the job ends).
-- PINs are unique per technician (the relay knows the caller's number, so it finds the
-- technician first): a million per technician, never exhausted platform-wide.
CREATE TABLE contact_relays (
    technician_id INTEGER NOT NULL REFERENCES accounts(id),
    pin           TEXT NOT NULL,
    order_id      INTEGER NOT NULL REFERENCES orders(id),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (technician_id, pin),
    UNIQUE (order_id, technician_id)
);
