-- Dashboard rollups kept on ingest, by quarter-hour UTC slot (`slot` = Unix ms / 900000), so
-- that days, weeks and months of any shop time zone (every offset in use is a multiple of 15
-- minutes: +05:30, +05:45, -03:30, …) are whole ranges of slots. Written by the customer
-- objects' D1 mirror beside the older UTC `daily` rollup.

-- (Ordinary rowid tables: the shop erase deletes in pages by rowid.)

-- Shop totals per slot (bots excluded). `revenue` is what orders took, `refunded` what
-- `Order Refunded` gave back in that slot: net revenue = revenue - refunded.
CREATE TABLE IF NOT EXISTS rollup_slots (
  shop TEXT NOT NULL,
  slot INTEGER NOT NULL,
  events INTEGER NOT NULL DEFAULT 0,
  page_views INTEGER NOT NULL DEFAULT 0,
  product_views INTEGER NOT NULL DEFAULT 0,
  adds INTEGER NOT NULL DEFAULT 0,
  checkouts INTEGER NOT NULL DEFAULT 0,
  sessions INTEGER NOT NULL DEFAULT 0,
  orders INTEGER NOT NULL DEFAULT 0,
  items INTEGER NOT NULL DEFAULT 0,
  revenue REAL NOT NULL DEFAULT 0,
  refunds INTEGER NOT NULL DEFAULT 0,
  refunded REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, slot)
);

-- Which customers were active in a slot: distinct visitors over any range, exactly.
CREATE TABLE IF NOT EXISTS visitor_slots (
  shop TEXT NOT NULL,
  slot INTEGER NOT NULL,
  customer_id TEXT NOT NULL,
  PRIMARY KEY (shop, slot, customer_id)
);

-- Product counts per slot: views, cart adds, units bought, their revenue, refunded amount.
CREATE TABLE IF NOT EXISTS product_slots (
  shop TEXT NOT NULL,
  slot INTEGER NOT NULL,
  product_id TEXT NOT NULL,
  views INTEGER NOT NULL DEFAULT 0,
  adds INTEGER NOT NULL DEFAULT 0,
  units INTEGER NOT NULL DEFAULT 0,
  revenue REAL NOT NULL DEFAULT 0,
  refunded REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, slot, product_id)
);

-- The product page sums a period of slots from this index alone (a rowid table's primary key
-- would fetch every row).
CREATE INDEX IF NOT EXISTS product_slots_cover ON product_slots
  (shop, slot, product_id, views, adds, units, revenue, refunded);

-- The lines of each order ("often bought with", revenue by product, category and brand).
CREATE TABLE IF NOT EXISTS order_lines (
  shop TEXT NOT NULL,
  order_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1,
  price REAL,
  PRIMARY KEY (shop, order_id, product_id)
);

CREATE INDEX IF NOT EXISTS order_lines_by_product ON order_lines (shop, product_id, order_id);

-- Refunds, one per `Order Refunded` message (kept like orders).
CREATE TABLE IF NOT EXISTS refunds (
  shop TEXT NOT NULL,
  message_id TEXT NOT NULL,
  order_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  amount REAL NOT NULL,
  PRIMARY KEY (shop, message_id)
);
CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds (shop, order_id);

-- The latest event each shop received, and how many page views the tag has sent.
CREATE TABLE IF NOT EXISTS ingest_freshness (
  shop TEXT PRIMARY KEY,
  last_received INTEGER NOT NULL,
  last_ts INTEGER NOT NULL,
  page_views INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0
);

-- Funnel steps and explore read raw events by name and time, and a customer's events by name:
-- covering indexes, so those reads never touch the stored JSON. Orders per customer.
CREATE INDEX IF NOT EXISTS events_by_name_ts ON events (shop, name, ts, customer_id, bot, product_id);
CREATE INDEX IF NOT EXISTS events_by_customer_name ON events (shop, customer_id, name, ts, bot);
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (shop, customer_id, ts);

-- What was already ingested before this migration, from the raw events and orders kept.
INSERT OR IGNORE INTO rollup_slots (shop, slot, events, page_views, product_views, adds, checkouts)
  SELECT shop, ts / 900000, COUNT(*), SUM(type IN ('page', 'screen')),
    SUM(name = 'Product Viewed'), SUM(name = 'Product Added'), SUM(name = 'Checkout Started')
  FROM events WHERE bot = 0 GROUP BY shop, ts / 900000;
UPDATE rollup_slots SET
  orders = (SELECT COUNT(*) FROM orders o WHERE o.shop = rollup_slots.shop
    AND o.ts / 900000 = rollup_slots.slot),
  items = (SELECT COALESCE(SUM(items), 0) FROM orders o WHERE o.shop = rollup_slots.shop
    AND o.ts / 900000 = rollup_slots.slot),
  revenue = (SELECT COALESCE(SUM(total), 0) FROM orders o WHERE o.shop = rollup_slots.shop
    AND o.ts / 900000 = rollup_slots.slot);
INSERT OR IGNORE INTO visitor_slots (shop, slot, customer_id)
  SELECT DISTINCT shop, ts / 900000, customer_id FROM events WHERE bot = 0;
INSERT OR IGNORE INTO ingest_freshness (shop, last_received, last_ts, page_views, events)
  SELECT shop, MAX(received_at), MAX(ts), SUM(type IN ('page', 'screen')), COUNT(*)
  FROM events GROUP BY shop;

-- One row per session start, with what explore slices visits and orders by: country and region
-- (the event's `context.location`), device (from the user agent), referrer host, UTM source
-- and campaign, and whether the visitor had been seen before (a returning visitor).
CREATE TABLE IF NOT EXISTS visits (
  shop TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  country TEXT,
  region TEXT,
  device TEXT,
  referrer TEXT,
  utm_source TEXT,
  utm_campaign TEXT,
  seen_before INTEGER NOT NULL DEFAULT 0,
  message_id TEXT NOT NULL,
  PRIMARY KEY (shop, message_id)
);
-- Covering: explore's visitor counts read a period of visits from the index alone.
CREATE INDEX IF NOT EXISTS visits_by_ts ON visits (shop, ts, customer_id, country, region, device,
  referrer, utm_source, utm_campaign, seen_before);
CREATE INDEX IF NOT EXISTS visits_by_customer ON visits (shop, customer_id, ts);
