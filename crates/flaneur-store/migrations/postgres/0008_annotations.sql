-- Annotations: semantic tags on a part of a picture. `shape` is the polygon in pixels as
-- written by the model (JSON without spaces), so that an equal shape is the same text; the
-- unique index, on its hash since a long outline outgrows an index entry, finds the
-- annotation a new one with the same shape joins. A picture deleted takes its annotations and
-- their tags along.
CREATE TABLE annotations (
    id uuid PRIMARY KEY,
    picture_id uuid NOT NULL REFERENCES pictures (id) ON DELETE CASCADE,
    shape text NOT NULL,
    account_id uuid NOT NULL REFERENCES accounts (id),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX annotations_by_picture ON annotations (picture_id, md5(shape));

CREATE TABLE annotation_semantics (
    annotation_id uuid NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
    key text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    PRIMARY KEY (annotation_id, key, value)
);
CREATE INDEX annotation_semantics_tag ON annotation_semantics (key, value);

-- An annotation made, deleted or retagged changes its picture as harvesters see it: the
-- picture's `updated_at` moves, and its sequence's, as for the picture's own tags. Only
-- `updated_at` is written, so what the map shows stays.
CREATE FUNCTION annotations_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    picture uuid;
BEGIN
    picture := CASE TG_OP WHEN 'INSERT' THEN NEW.picture_id ELSE OLD.picture_id END;
    UPDATE pictures SET updated_at = greatest(clock_timestamp(), updated_at)
    WHERE id = picture;
    UPDATE sequences SET updated_at = greatest(clock_timestamp(), updated_at)
    WHERE id IN (SELECT sequence_id FROM sequence_pictures WHERE picture_id = picture);
    RETURN NULL;
END;
$$;

CREATE TRIGGER annotations_updated_at AFTER INSERT OR DELETE ON annotations
FOR EACH ROW EXECUTE FUNCTION annotations_updated_at();

CREATE FUNCTION annotation_semantics_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    picture uuid;
BEGIN
    SELECT picture_id INTO picture FROM annotations
    WHERE id = CASE TG_OP WHEN 'INSERT' THEN NEW.annotation_id ELSE OLD.annotation_id END;
    IF picture IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE pictures SET updated_at = greatest(clock_timestamp(), updated_at)
    WHERE id = picture;
    UPDATE sequences SET updated_at = greatest(clock_timestamp(), updated_at)
    WHERE id IN (SELECT sequence_id FROM sequence_pictures WHERE picture_id = picture);
    RETURN NULL;
END;
$$;

CREATE TRIGGER annotation_semantics_updated_at AFTER INSERT OR DELETE ON annotation_semantics
FOR EACH ROW EXECUTE FUNCTION annotation_semantics_updated_at();
