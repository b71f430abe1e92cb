-- The shop's catalog (issue 11): the only place item names, prices, images, URLs, stock and
-- categories of the item model come from. The merchant uploads it (`POST /v1/admin/catalog`);
-- event properties never write here. `products` keeps the counters learned from events (the
-- dashboard reads them) and is no longer read by the model build.
CREATE TABLE IF NOT EXISTS catalog (
  shop TEXT NOT NULL,
  product_id TEXT NOT NULL,
  name TEXT NOT NULL,
  price REAL,
  category TEXT,
  brand TEXT,
  url TEXT,
  image TEXT,
  in_stock INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (shop, product_id)
);
