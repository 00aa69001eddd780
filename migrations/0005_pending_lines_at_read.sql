-- pitstop-core client cache, version 5: an order's stored view holds its head and its
-- pending steps only. Pending notes and parts are added when the order is read, from the
-- outbox, so queueing or settling one no longer rewrites the view (a drain of 10,000
-- notes rewrote each order's growing view once per answer). Views written before carry
-- those pending lines inside; they come out here, and reads put them back.
UPDATE orders SET local = json_set(local, '$.job_notes', json('[]'), '$.parts', json('[]'))
WHERE local IS NOT NULL;
-- A view left with nothing of its own (only notes or parts were pending) is the snapshot
-- again: stored once, as from version 3 on.
UPDATE orders SET local = NULL
WHERE server IS NOT NULL AND local IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM outbox WHERE outbox.order_id = orders.id AND outbox.state = 'pending'
        AND json_extract(outbox.op, '$.op') NOT IN ('order_note', 'order_part'));
