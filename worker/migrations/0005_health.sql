-- Stored values that failed to decode (a profile, an outbox entry, a compiled segment set, …):
-- each reader keeps the value as it was, logs it and records it here, so nothing is lost
-- silently. `/v1/admin/health` reads this table.
CREATE TABLE IF NOT EXISTS health_issues (
  shop TEXT NOT NULL,
  kind TEXT NOT NULL,
  ref TEXT NOT NULL,
  error TEXT NOT NULL,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  seen INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (shop, kind, ref)
);
