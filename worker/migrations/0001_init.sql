-- Affinity analytics schema (D1). Every row is scoped by shop.
-- Applied by `wrangler d1 migrations apply affinity` and, lazily, by the Worker itself
-- (it records what it applied in wrangler's own `d1_migrations` table, so both agree).

-- One row per shop: its public write key and a salted hash of its admin secret.
CREATE TABLE IF NOT EXISTS shops (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  write_key TEXT NOT NULL UNIQUE,
  admin_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Identity map: an anonymous id seen with a user id belongs to that user's customer.
CREATE TABLE IF NOT EXISTS identities (
  shop TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  linked_at INTEGER NOT NULL,
  PRIMARY KEY (shop, anonymous_id)
);

-- Raw events (age out with retention; rollups below stay).
CREATE TABLE IF NOT EXISTS events (
  shop TEXT NOT NULL,
  message_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  anonymous_id TEXT,
  user_id TEXT,
  type TEXT NOT NULL,
  name TEXT,
  ts INTEGER NOT NULL,
  day TEXT NOT NULL,
  product_id TEXT,
  category TEXT,
  order_id TEXT,
  revenue REAL,
  bot INTEGER NOT NULL DEFAULT 0,
  json TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (shop, message_id)
);
CREATE INDEX IF NOT EXISTS events_by_day ON events (shop, day);
CREATE INDEX IF NOT EXISTS events_by_customer ON events (shop, customer_id, ts);

-- Mirror of each customer's Durable Object profile (what cross-customer queries read).
CREATE TABLE IF NOT EXISTS customers (
  shop TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  user_id TEXT,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  sessions INTEGER NOT NULL DEFAULT 0,
  orders INTEGER NOT NULL DEFAULT 0,
  total_spend REAL NOT NULL DEFAULT 0,
  product_views INTEGER NOT NULL DEFAULT 0,
  cart_adds INTEGER NOT NULL DEFAULT 0,
  page_views INTEGER NOT NULL DEFAULT 0,
  last_event TEXT,
  bot INTEGER NOT NULL DEFAULT 0,
  summary TEXT NOT NULL DEFAULT '{}',
  version INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, customer_id)
);
CREATE INDEX IF NOT EXISTS customers_by_last_seen ON customers (shop, last_seen);

-- Products learned from product events (the item model reads these).
CREATE TABLE IF NOT EXISTS products (
  shop TEXT NOT NULL,
  product_id TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  price REAL,
  category TEXT,
  brand TEXT,
  url TEXT,
  image TEXT,
  in_stock INTEGER,
  views INTEGER NOT NULL DEFAULT 0,
  adds INTEGER NOT NULL DEFAULT 0,
  purchases INTEGER NOT NULL DEFAULT 0,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (shop, product_id)
);

-- Per-product, per-day interaction counts (popularity over a window).
CREATE TABLE IF NOT EXISTS product_daily (
  shop TEXT NOT NULL,
  product_id TEXT NOT NULL,
  day TEXT NOT NULL,
  views INTEGER NOT NULL DEFAULT 0,
  adds INTEGER NOT NULL DEFAULT 0,
  purchases INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, product_id, day)
);
CREATE INDEX IF NOT EXISTS product_daily_by_day ON product_daily (shop, day);

-- Orders (kept; never aged out).
CREATE TABLE IF NOT EXISTS orders (
  shop TEXT NOT NULL,
  order_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  day TEXT NOT NULL,
  total REAL NOT NULL DEFAULT 0,
  items INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, order_id)
);
CREATE INDEX IF NOT EXISTS orders_by_ts ON orders (shop, ts);

-- Daily rollup per shop (survives raw-event retention).
CREATE TABLE IF NOT EXISTS daily (
  shop TEXT NOT NULL,
  day TEXT NOT NULL,
  events INTEGER NOT NULL DEFAULT 0,
  page_views INTEGER NOT NULL DEFAULT 0,
  product_views INTEGER NOT NULL DEFAULT 0,
  orders INTEGER NOT NULL DEFAULT 0,
  revenue REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, day)
);
