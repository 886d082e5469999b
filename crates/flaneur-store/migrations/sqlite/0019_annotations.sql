-- Annotations: semantic tags on a part of a picture. `shape` is the polygon in pixels as
-- written by the model (JSON without spaces), so that an equal shape is the same text and the
-- unique index finds the annotation a new one with the same shape joins. A picture deleted
-- takes its annotations and their tags along.
CREATE TABLE annotations (
    id TEXT PRIMARY KEY,
    picture_id TEXT NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    shape TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX annotations_by_picture ON annotations(picture_id, shape);

CREATE TABLE annotation_semantics (
    annotation_id TEXT NOT NULL REFERENCES annotations(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (annotation_id, key, value)
);
CREATE INDEX annotation_semantics_tag ON annotation_semantics(key, value);

-- An annotation made, deleted or retagged changes its picture as harvesters see it: the
-- picture's `updated_at` moves, and its sequence's, as for the picture's own tags. Only
-- `updated_at` is written, so the map's version stays.
CREATE TRIGGER annotations_updated_at_insert AFTER INSERT ON annotations
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id = NEW.picture_id;
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (SELECT sequence_id FROM sequence_pictures WHERE picture_id = NEW.picture_id);
END;

CREATE TRIGGER annotations_updated_at_delete AFTER DELETE ON annotations
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id = OLD.picture_id;
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (SELECT sequence_id FROM sequence_pictures WHERE picture_id = OLD.picture_id);
END;

CREATE TRIGGER annotation_semantics_updated_at_insert AFTER INSERT ON annotation_semantics
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (SELECT picture_id FROM annotations WHERE id = NEW.annotation_id);
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (SELECT sp.sequence_id FROM sequence_pictures sp
                 JOIN annotations a ON a.picture_id = sp.picture_id
                 WHERE a.id = NEW.annotation_id);
END;

CREATE TRIGGER annotation_semantics_updated_at_delete AFTER DELETE ON annotation_semantics
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (SELECT picture_id FROM annotations WHERE id = OLD.annotation_id);
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (SELECT sp.sequence_id FROM sequence_pictures sp
                 JOIN annotations a ON a.picture_id = sp.picture_id
                 WHERE a.id = OLD.annotation_id);
END;
