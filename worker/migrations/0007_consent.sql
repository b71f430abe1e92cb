-- Consent (issue 10): the shopper's current level on the customer mirror (NULL = not known;
-- the customer object's profile keeps the history), and the shop's consent policy: the level
-- before a choice and the levels Global Privacy Control and Do Not Track cap to (NULL = the
-- defaults documented in worker/src/shops/mod.rs).
ALTER TABLE customers ADD COLUMN consent TEXT;
ALTER TABLE shops ADD COLUMN consent_default TEXT;
ALTER TABLE shops ADD COLUMN consent_gpc TEXT;
ALTER TABLE shops ADD COLUMN consent_dnt TEXT;
