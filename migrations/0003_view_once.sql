-- pitstop-core client cache, version 3: an order's view (`local`) is stored only when it
-- differs from the platform's snapshot (`server`), that is while actions on it are pending
-- or it exists only on this device. NULL means "the same as `server`"; reads take
-- COALESCE(local, server). A first sync wrote every order's JSON twice before; now once.
-- SQLite cannot drop NOT NULL in place, so the table is rebuilt (its search triggers too).
CREATE TABLE orders_v3 (
    id         INTEGER PRIMARY KEY,
    version    INTEGER NOT NULL,
    status     TEXT NOT NULL,
    plate      TEXT NOT NULL,
    vin        TEXT NOT NULL,
    customer   TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    server     TEXT,
    local      TEXT,
    CHECK (server IS NOT NULL OR local IS NOT NULL)
);
INSERT INTO orders_v3 (id, version, status, plate, vin, customer, updated_at, server, local)
    SELECT id, version, status, plate, vin, customer, updated_at, server,
           CASE WHEN local = server THEN NULL ELSE local END
    FROM orders;
DROP TABLE orders;
ALTER TABLE orders_v3 RENAME TO orders;
CREATE INDEX orders_status ON orders (status, updated_at);
CREATE INDEX orders_updated ON orders (updated_at);
CREATE INDEX orders_plate ON orders (plate);
CREATE INDEX orders_vin ON orders (vin);
CREATE TRIGGER order_search_insert AFTER INSERT ON orders
WHEN (SELECT value FROM sync_state WHERE key = 'search_ready') = '1'
  OR new.id <= (SELECT CAST(value AS INTEGER) FROM sync_state WHERE key = 'search_built_to')
BEGIN
    INSERT INTO order_search (rowid, text) VALUES (new.id, new.plate || ' ' || new.vin || ' ' || new.customer);
END;
CREATE TRIGGER order_search_update AFTER UPDATE OF plate, vin, customer ON orders
WHEN (SELECT value FROM sync_state WHERE key = 'search_ready') = '1'
  OR new.id <= (SELECT CAST(value AS INTEGER) FROM sync_state WHERE key = 'search_built_to')
BEGIN
    DELETE FROM order_search WHERE rowid = old.id;
    INSERT INTO order_search (rowid, text) VALUES (new.id, new.plate || ' ' || new.vin || ' ' || new.customer);
END;
CREATE TRIGGER order_search_delete AFTER DELETE ON orders
WHEN (SELECT value FROM sync_state WHERE key = 'search_ready') = '1'
  OR old.id <= (SELECT CAST(value AS INTEGER) FROM sync_state WHERE key = 'search_built_to')
BEGIN
    DELETE FROM order_search WHERE rowid = old.id;
END;
