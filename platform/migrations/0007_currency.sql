-- Money in more than one currency: each workshop prices in its own (ISO 4217), and an order
-- keeps the currency it was booked in even if its workshop later changes.
ALTER TABLE workshops ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR';
ALTER TABLE orders ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR';
