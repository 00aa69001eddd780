-- Share links: a car owner or desk hands out a browser link that shows one order's live
-- tracking without signing in. Only the SHA-256 of the link's token is stored.
CREATE TABLE share_links (
    hash       TEXT PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders(id),
    created_by INTEGER NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX share_links_order ON share_links (order_id);
