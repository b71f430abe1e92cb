-- Segments (issue 3): the merchant's rules, who is in them, and how many over time.

-- One row per segment: the rule text as written, its compiled form (base64url of
-- `affinity::rules::encode`), and a version bumped on every save.
CREATE TABLE IF NOT EXISTS segments (
  shop TEXT NOT NULL,
  name TEXT NOT NULL,
  source TEXT NOT NULL,
  compiled TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (shop, name)
);

-- The shop's whole set, compiled together (base64url of `SegmentSet::encode`): what the shop
-- config ships to browsers and what customer objects evaluate. `version` grows on every change.
CREATE TABLE IF NOT EXISTS segment_sets (
  shop TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  compiled TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Membership mirror, written idempotently by customer Durable Objects (and by backfills when a
-- segment is saved). `updated_at` orders writes: an older write never overwrites a newer one.
CREATE TABLE IF NOT EXISTS memberships (
  shop TEXT NOT NULL,
  segment TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  member INTEGER NOT NULL,
  entered_at INTEGER,
  exited_at INTEGER,
  updated_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, segment, customer_id)
);
CREATE INDEX IF NOT EXISTS memberships_by_segment ON memberships (shop, segment, member);

-- Segment size per day (recorded whenever sizes are computed).
CREATE TABLE IF NOT EXISTS segment_sizes (
  shop TEXT NOT NULL,
  segment TEXT NOT NULL,
  day TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (shop, segment, day)
);

-- The engine's profile JSON in the customer mirror: previews and backfills evaluate rules on it.
ALTER TABLE customers ADD COLUMN profile TEXT;
