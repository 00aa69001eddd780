-- A walk-in customer (no account): their name for the desk's board, and their phone for
-- masked calls only (never in an order's JSON, never shown to anyone).
ALTER TABLE orders ADD COLUMN customer_name TEXT;
ALTER TABLE orders ADD COLUMN customer_phone TEXT;
