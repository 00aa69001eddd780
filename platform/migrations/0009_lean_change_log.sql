-- Appending a change costs fewer B-tree inserts: one for the pruning index, and one per
-- audience row for the by-cursor index (a note on an owner's order has two audiences):
-- * pruning only ever looks at positions and offers, so its index leaves out job lines
--   and order snapshots (most of the log);
-- * `change_audience` loses its foreign key to `changes`, and with it the index by cursor
--   that only served that key: audience rows are always deleted by their own key, before
--   the change (`changes::remove`), and a page reads them joined to existing changes.
DROP INDEX changes_pruning;
CREATE INDEX changes_pruning ON changes (kind, at) WHERE kind IN ('location', 'offer');

CREATE TABLE change_audience_v9 (
    audience TEXT NOT NULL,
    cursor   INTEGER NOT NULL,
    PRIMARY KEY (audience, cursor)
) WITHOUT ROWID;
INSERT INTO change_audience_v9 (audience, cursor)
    SELECT audience, cursor FROM change_audience WHERE cursor IN (SELECT cursor FROM changes);
DROP TABLE change_audience;
ALTER TABLE change_audience_v9 RENAME TO change_audience;
