-- Sync v2 (append-only; see docs/protocol.md "Sync"):
-- * job-sheet lines (notes, parts, steps) are their own change-log entities and remember the
--   client mutation that made them; orders count their lines instead of carrying them;
-- * the change log keeps only the newest change of each entity (`entity`, unique), so it
--   grows with the number of things, not with the number of edits;
-- * `sync_meta.horizon`: changes at or below it may have been pruned without a successor,
--   so a client whose cursor is older must resync.
ALTER TABLE job_notes ADD COLUMN mutation_id TEXT;
ALTER TABLE parts ADD COLUMN mutation_id TEXT;
ALTER TABLE parts ADD COLUMN author_id INTEGER;
ALTER TABLE order_timeline ADD COLUMN mutation_id TEXT;
ALTER TABLE orders ADD COLUMN note_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN part_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN step_count INTEGER NOT NULL DEFAULT 0;
UPDATE orders SET
    note_count = (SELECT count(*) FROM job_notes WHERE order_id = orders.id),
    part_count = (SELECT count(*) FROM parts WHERE order_id = orders.id),
    step_count = (SELECT count(*) FROM order_timeline WHERE order_id = orders.id);

ALTER TABLE changes ADD COLUMN entity TEXT;
-- Who may read the change, space-separated: lets compaction delete its audience rows by key.
ALTER TABLE changes ADD COLUMN audiences TEXT NOT NULL DEFAULT '';
CREATE INDEX change_audience_by_cursor ON change_audience (cursor);
UPDATE changes SET
    entity = CASE kind
        WHEN 'location' THEN 'location:' || json_extract(data, '$.data.technician_id')
        ELSE kind || ':' || json_extract(data, '$.data.id') END,
    audiences = coalesce((SELECT group_concat(audience, ' ') FROM change_audience a
                          WHERE a.cursor = changes.cursor), '');
CREATE INDEX changes_entity_tmp ON changes (entity, cursor);
DELETE FROM change_audience WHERE cursor IN (
    SELECT c.cursor FROM changes c
    WHERE EXISTS (SELECT 1 FROM changes d WHERE d.entity = c.entity AND d.cursor > c.cursor));
DELETE FROM changes WHERE EXISTS (
    SELECT 1 FROM changes d WHERE d.entity = changes.entity AND d.cursor > changes.cursor);
DROP INDEX changes_entity_tmp;
-- change_audience_by_cursor stays: deleting a superseded change checks its foreign key.
CREATE UNIQUE INDEX changes_entity ON changes (entity);
CREATE INDEX changes_pruning ON changes (kind, at);

CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO sync_meta (key, value) VALUES ('horizon', 0);
