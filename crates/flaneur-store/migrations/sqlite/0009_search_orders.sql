-- Search pages through pictures in the order a client asks for, starting from any position.
-- Each order's first column is indexed together with the id, so that a page deep in the
-- listing starts with a seek instead of a walk over every picture before it. Updates already
-- have theirs (`pictures_updated`).
DROP INDEX pictures_captured;
CREATE INDEX pictures_captured ON pictures(captured_at, id);
CREATE INDEX pictures_created ON pictures(created_at, id);
