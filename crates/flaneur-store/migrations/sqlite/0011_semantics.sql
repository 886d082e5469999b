-- Semantic tags of sequences and pictures: `key=value` pairs, each pair once per object (a key
-- may hold several values). A sequence receives its upload set's tags when dispatch makes it.
-- The primary keys answer "does this object have this tag" for the search filter; the
-- `(key, value)` indexes answer "which objects have it".
CREATE TABLE sequence_semantics (
    sequence_id TEXT NOT NULL REFERENCES sequences(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (sequence_id, key, value)
);
CREATE INDEX sequence_semantics_tag ON sequence_semantics(key, value);

CREATE TABLE picture_semantics (
    picture_id TEXT NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (picture_id, key, value)
);
CREATE INDEX picture_semantics_tag ON picture_semantics(key, value);
