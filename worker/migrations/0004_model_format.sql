-- The binary model format each build was encoded with: a shop whose latest model has another
-- format than the Worker writes gets rebuilt before it is served (models from before this
-- column existed were format 1).
ALTER TABLE models ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
