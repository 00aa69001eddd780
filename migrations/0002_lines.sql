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
