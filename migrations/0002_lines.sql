-- pitstop-core client cache, version 2 (sync v2): job-sheet lines are their own rows.
-- Orders' `server` and `local` columns now hold the order without its platform lines;
-- reads add the lines below. `mutation_id` names the local action that made a line, so a
-- pending action whose line already arrived is not shown twice. Steps with a negative id
-- came from a version 1 cache (old snapshots had no step ids); the platform's real step
-- lines replace them when they arrive. Filled from version 1 snapshots by the upgrade hook.
CREATE TABLE order_lines (
    kind        TEXT NOT NULL,
    id          INTEGER NOT NULL,
    order_id    INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    mutation_id TEXT,
    data        TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE INDEX order_lines_order ON order_lines (order_id, kind, at);
CREATE INDEX order_lines_mutation ON order_lines (mutation_id) WHERE mutation_id IS NOT NULL;

-- Plate/VIN/customer search: an FTS5 trigram index, filled after the first sync (off the
-- pull path, in chunks: `Store::build_search_index_chunk`) and kept current by these
-- triggers for every row already copied (id up to `search_built_to`), then for all once
-- `search_ready` is '1'. Until then, search falls back to a LIKE scan.
CREATE VIRTUAL TABLE order_search USING fts5(text, tokenize = 'trigram');
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
