-- Many shops on one deployment (issue 9): key rotation with a grace period, per-shop settings in
-- one place, and deletion (keys stop at once; the erase job removes the data).
ALTER TABLE shops ADD COLUMN previous_write_key TEXT;
ALTER TABLE shops ADD COLUMN previous_key_until INTEGER;
ALTER TABLE shops ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
ALTER TABLE shops ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE shops ADD COLUMN count_automated INTEGER NOT NULL DEFAULT 1;
ALTER TABLE shops ADD COLUMN deleted_at INTEGER;
CREATE INDEX IF NOT EXISTS shops_by_previous_key ON shops (previous_write_key);
