-- Distinct counts over any range of slots without DISTINCT: each row of a customer's activity
-- keeps `prev`, the slot of the same customer's previous row (NULL for the first). A customer
-- is active in [lo, hi) exactly when one of their rows has lo <= slot < hi and prev < lo (or
-- none): their first row in the range. So "distinct visitors over 90 days" is a COUNT(*) over
-- one covering index range instead of sorting every (slot, customer) row of the 90 days. The
-- fold re-links a customer's rows from its earliest slot on after inserting them
-- (`store::rollups::link_visitor_slots`), so late and out-of-order events keep the chain right.

-- visitor_slots again, keyed by customer first (the re-link reads a customer's rows), with
-- `prev`. (Ordinary rowid tables: the shop erase deletes in pages by rowid.)
CREATE TABLE IF NOT EXISTS visitor_slots_chained (
  shop TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  slot INTEGER NOT NULL,
  prev INTEGER,
  PRIMARY KEY (shop, customer_id, slot)
);
INSERT OR IGNORE INTO visitor_slots_chained (shop, customer_id, slot, prev)
  SELECT shop, customer_id, slot,
    LAG(slot) OVER (PARTITION BY shop, customer_id ORDER BY slot)
  FROM visitor_slots;
DROP TABLE visitor_slots;
ALTER TABLE visitor_slots_chained RENAME TO visitor_slots;
-- Covering: the distinct visitors of a range read (slot, prev) from this index alone.
CREATE INDEX IF NOT EXISTS visitor_slots_first ON visitor_slots (shop, slot, prev);

-- Who viewed which product in a slot (bots excluded), chained the same way per customer and
-- product: explore's distinct visitors by product over any period.
CREATE TABLE IF NOT EXISTS product_viewers (
  shop TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  slot INTEGER NOT NULL,
  prev INTEGER,
  PRIMARY KEY (shop, customer_id, product_id, slot)
);
CREATE INDEX IF NOT EXISTS product_viewers_first ON product_viewers (shop, product_id, slot, prev);

-- The product views already kept as raw events.
INSERT OR IGNORE INTO product_viewers (shop, customer_id, product_id, slot, prev)
  SELECT shop, customer_id, product_id, slot,
    LAG(slot) OVER (PARTITION BY shop, customer_id, product_id ORDER BY slot)
  FROM (SELECT DISTINCT shop, customer_id, product_id, ts / 900000 AS slot FROM events
    WHERE name = 'Product Viewed' AND type = 'track' AND bot = 0 AND product_id IS NOT NULL);

-- Retention walks the shop's local months and reads each month's orders (customer, total)
-- from this index alone, in place of working out every order's local month.
CREATE INDEX IF NOT EXISTS orders_by_ts_customer ON orders (shop, ts, customer_id, total);

-- The RFM grid and the top customers read each buyer's orders, totals included, from this
-- index alone, in customer order.
DROP INDEX IF EXISTS orders_by_customer;
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (shop, customer_id, ts, total);
