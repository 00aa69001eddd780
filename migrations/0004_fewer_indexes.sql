-- pitstop-core client cache, version 4: no indexes on `plate` and `vin`. Search matches
-- inside them (`LIKE '%…%'`, or the FTS5 trigram index once built), which a B-tree index
-- cannot serve, so they only slowed every order written.
DROP INDEX IF EXISTS orders_plate;
DROP INDEX IF EXISTS orders_vin;
