-- Item models and recommendation measurement (issue 4).

-- One row per model build; the bytes live in KV under `model/<shop>/<version>`.
CREATE TABLE IF NOT EXISTS models (
  shop TEXT NOT NULL,
  version TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  items INTEGER NOT NULL,
  pairs INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  build_ms INTEGER NOT NULL,
  sessions INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, version)
);
CREATE INDEX IF NOT EXISTS models_by_shop ON models (shop, created_at);

-- Per-shop model settings: minimum support k of the build, recommendation holdout (percent).
ALTER TABLE shops ADD COLUMN min_support INTEGER NOT NULL DEFAULT 2;
ALTER TABLE shops ADD COLUMN holdout_percent REAL NOT NULL DEFAULT 10;

-- Recommendation impressions and clicks: `list_id` ("affinity:<slot>") and `variant`
-- ("personalized" | "holdout") of Product List Viewed / Product Clicked, filled at ingest.
ALTER TABLE events ADD COLUMN list_id TEXT;
ALTER TABLE events ADD COLUMN variant TEXT;
CREATE INDEX IF NOT EXISTS events_by_list ON events (shop, list_id, ts);
-- The cron looks for shops with events received after their latest model.
CREATE INDEX IF NOT EXISTS events_by_received ON events (shop, received_at);
