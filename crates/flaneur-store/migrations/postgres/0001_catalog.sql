-- The shared catalog: accounts, upload sets, files, pictures, sequences, semantic tags and the
-- job queue. Tables and columns are named as in the embedded (SQLite) catalog, so that both
-- implementations read alike; instants are `timestamptz`, ids `uuid`, documents `jsonb`, and
-- places PostGIS geometries in WGS 84.

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE accounts (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL
);
-- One default account, even when several processes start on an empty catalog at once.
CREATE UNIQUE INDEX accounts_default ON accounts (is_default) WHERE is_default;

CREATE TABLE upload_sets (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    title text NOT NULL,
    created_at timestamptz NOT NULL,
    completed boolean NOT NULL DEFAULT false,
    dispatched boolean NOT NULL DEFAULT false,
    -- The request as the client made it (NewUploadSet): dispatch options, metadata,
    -- semantics, visibility and user agent.
    spec jsonb NOT NULL
);

CREATE TABLE pictures (
    id uuid PRIMARY KEY,
    upload_set_id uuid REFERENCES upload_sets (id) ON DELETE SET NULL,
    account_id uuid NOT NULL REFERENCES accounts (id),
    status text NOT NULL,
    visibility text NOT NULL,
    captured_at timestamptz NOT NULL,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    -- The point of `lon` and `lat`, for the space index: derived, so no write can leave it
    -- behind.
    geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326))
        STORED,
    heading_deg double precision,
    heading_computed boolean NOT NULL DEFAULT false,
    projection text NOT NULL,
    content_md5 text NOT NULL,
    file_name text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    process_error text,
    -- NewPicture: everything read from the file that is not a column above.
    doc jsonb NOT NULL
);
CREATE INDEX pictures_md5 ON pictures (content_md5);
CREATE INDEX pictures_upload_set ON pictures (upload_set_id);
CREATE INDEX pictures_geom ON pictures USING gist (geom);
-- Search pages through pictures in any of its orders by keyset: each order's first column
-- with the id, so that a page deep in the listing starts with a seek.
CREATE INDEX pictures_updated ON pictures (updated_at DESC, id);
CREATE INDEX pictures_captured ON pictures (captured_at, id);
CREATE INDEX pictures_created ON pictures (created_at, id);

CREATE TABLE files (
    upload_set_id uuid NOT NULL REFERENCES upload_sets (id) ON DELETE CASCADE,
    file_name text NOT NULL,
    size_bytes bigint,
    content_md5 text,
    picture_id uuid,
    inserted_at timestamptz NOT NULL,
    rejection_reason text,
    rejection_message text,
    rejection_details jsonb,
    PRIMARY KEY (upload_set_id, file_name)
);

CREATE TABLE sequences (
    id uuid PRIMARY KEY,
    upload_set_id uuid,
    account_id uuid NOT NULL REFERENCES accounts (id),
    title text NOT NULL,
    status text NOT NULL,
    visibility text NOT NULL,
    sorted_by text NOT NULL,
    user_agent text,
    relative_heading_deg double precision,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    nb_pictures bigint NOT NULL DEFAULT 0,
    min_captured_at timestamptz,
    max_captured_at timestamptz,
    min_lon double precision,
    min_lat double precision,
    max_lon double precision,
    max_lat double precision,
    length_km double precision,
    -- 90th percentile of the pictures' position error, in metres.
    gps_accuracy_m double precision
);
CREATE INDEX sequences_created ON sequences (created_at, id);
CREATE INDEX sequences_upload_set ON sequences (upload_set_id);
CREATE INDEX sequences_account_created ON sequences (account_id, created_at, id);
CREATE INDEX sequences_updated ON sequences (updated_at, id);

CREATE TABLE sequence_pictures (
    sequence_id uuid NOT NULL REFERENCES sequences (id) ON DELETE CASCADE,
    rank bigint NOT NULL,
    picture_id uuid NOT NULL UNIQUE REFERENCES pictures (id) ON DELETE CASCADE,
    PRIMARY KEY (sequence_id, rank)
);

-- Semantic tags: `key=value` pairs, each pair once per object (a key may hold several
-- values). The primary keys answer "does this object have this tag", the `(key, value)`
-- indexes "which objects have it". Tags sort byte by byte, whatever the database's locale.
CREATE TABLE sequence_semantics (
    sequence_id uuid NOT NULL REFERENCES sequences (id) ON DELETE CASCADE,
    key text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    PRIMARY KEY (sequence_id, key, value)
);
CREATE INDEX sequence_semantics_tag ON sequence_semantics (key, value);

CREATE TABLE picture_semantics (
    picture_id uuid NOT NULL REFERENCES pictures (id) ON DELETE CASCADE,
    key text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    PRIMARY KEY (picture_id, key, value)
);
CREATE INDEX picture_semantics_tag ON picture_semantics (key, value);

-- Durable job queue, shared by every process. A worker claims a job by setting
-- `leased_until` (under FOR UPDATE SKIP LOCKED, so two workers never take the same one); a job
-- whose lease ran out (its worker died) is claimed again, with `attempts` counting the claims
-- so that a former holder can no longer finish, renew or retry it. At most one job per kind
-- and target.
CREATE TABLE jobs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL,
    target text NOT NULL,
    created_at timestamptz NOT NULL,
    run_after timestamptz NOT NULL,
    attempts bigint NOT NULL DEFAULT 0,
    leased_until timestamptz,
    last_error text,
    -- Set when the job is queued again while a worker holds it: finishing then re-arms it
    -- instead of removing it, so the new request is not lost.
    requeued boolean NOT NULL DEFAULT false,
    UNIQUE (kind, target)
);
CREATE INDEX jobs_ready ON jobs (run_after, id);
CREATE INDEX jobs_kind_ready ON jobs (kind, run_after, id);

-- `updated_at` of pictures and sequences, kept by triggers in the transaction of every write:
-- harvesters list what changed since their last visit by this column, so a write path that
-- forgot it would hide a change from every federated catalog.
--
-- Rules:
-- - a picture row whose content changes gets a new `updated_at`, and so do the sequences it is
--   ranked in;
-- - a sequence row whose content changes gets a new `updated_at`;
-- - a rank added, removed or moved gets a new `updated_at` on each sequence concerned, on the
--   picture whose rank changed and on its neighbours on both sides (their `prev` and `next`);
-- - a semantic tag added, removed or changed moves what it describes (and a picture's tag its
--   sequences too);
-- - `updated_at` never goes backwards, and an UPDATE that changes nothing moves nothing.
-- A writer may still move `updated_at` forward alone (a change kept in another table).
--
-- "Content" is every column but `updated_at` (and the derived `geom`): a column added to
-- either table later must be added to the comparisons below. The rows' own stamps are set
-- before they are written; the stamps of other rows are moved by UPDATEs of `updated_at`
-- alone, which count as no content change and so fire nothing further.
--
-- The clock is read when the trigger runs, not at the start of the transaction, so that a
-- long transaction does not stamp its last writes with an instant long gone.

CREATE FUNCTION pictures_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ROW(OLD.id, OLD.upload_set_id, OLD.account_id, OLD.status, OLD.visibility,
           OLD.captured_at, OLD.lon, OLD.lat, OLD.heading_deg, OLD.heading_computed,
           OLD.projection, OLD.content_md5, OLD.file_name, OLD.created_at, OLD.process_error,
           OLD.doc)
       IS DISTINCT FROM
       ROW(NEW.id, NEW.upload_set_id, NEW.account_id, NEW.status, NEW.visibility,
           NEW.captured_at, NEW.lon, NEW.lat, NEW.heading_deg, NEW.heading_computed,
           NEW.projection, NEW.content_md5, NEW.file_name, NEW.created_at, NEW.process_error,
           NEW.doc)
    THEN
        NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at, NEW.updated_at);
    ELSE
        NEW.updated_at := greatest(OLD.updated_at, NEW.updated_at);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER pictures_updated_at BEFORE UPDATE ON pictures
FOR EACH ROW EXECUTE FUNCTION pictures_updated_at();

-- A picture's content changed: the sequences it is ranked in changed too.
CREATE FUNCTION pictures_updated_at_sequences() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sequences SET updated_at = greatest(clock_timestamp(), updated_at)
    WHERE id IN (SELECT sequence_id FROM sequence_pictures WHERE picture_id = NEW.id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER pictures_updated_at_sequences AFTER UPDATE ON pictures
FOR EACH ROW
WHEN (ROW(OLD.id, OLD.upload_set_id, OLD.account_id, OLD.status, OLD.visibility,
          OLD.captured_at, OLD.lon, OLD.lat, OLD.heading_deg, OLD.heading_computed,
          OLD.projection, OLD.content_md5, OLD.file_name, OLD.created_at, OLD.process_error,
          OLD.doc)
      IS DISTINCT FROM
      ROW(NEW.id, NEW.upload_set_id, NEW.account_id, NEW.status, NEW.visibility,
          NEW.captured_at, NEW.lon, NEW.lat, NEW.heading_deg, NEW.heading_computed,
          NEW.projection, NEW.content_md5, NEW.file_name, NEW.created_at, NEW.process_error,
          NEW.doc))
EXECUTE FUNCTION pictures_updated_at_sequences();

CREATE FUNCTION sequences_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ROW(OLD.id, OLD.upload_set_id, OLD.account_id, OLD.title, OLD.status, OLD.visibility,
           OLD.sorted_by, OLD.user_agent, OLD.relative_heading_deg, OLD.created_at,
           OLD.nb_pictures, OLD.min_captured_at, OLD.max_captured_at, OLD.min_lon, OLD.min_lat,
           OLD.max_lon, OLD.max_lat, OLD.length_km, OLD.gps_accuracy_m)
       IS DISTINCT FROM
       ROW(NEW.id, NEW.upload_set_id, NEW.account_id, NEW.title, NEW.status, NEW.visibility,
           NEW.sorted_by, NEW.user_agent, NEW.relative_heading_deg, NEW.created_at,
           NEW.nb_pictures, NEW.min_captured_at, NEW.max_captured_at, NEW.min_lon, NEW.min_lat,
           NEW.max_lon, NEW.max_lat, NEW.length_km, NEW.gps_accuracy_m)
    THEN
        NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at, NEW.updated_at);
    ELSE
        NEW.updated_at := greatest(OLD.updated_at, NEW.updated_at);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER sequences_updated_at BEFORE UPDATE ON sequences
FOR EACH ROW EXECUTE FUNCTION sequences_updated_at();

-- Moves `updated_at` of one picture and its neighbours by rank in a sequence (the ranks as
-- they are after the write), then of the sequence: pictures are locked before sequences on
-- every write path, so that concurrent writers never wait for each other in a circle.
CREATE FUNCTION touch_rank(sequence uuid, picture uuid, at_rank bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pictures SET updated_at = greatest(clock_timestamp(), updated_at)
    WHERE id = picture
       OR id IN (SELECT picture_id FROM sequence_pictures
                 WHERE sequence_id = sequence
                   AND rank IN ((SELECT max(rank) FROM sequence_pictures
                                 WHERE sequence_id = sequence AND rank < at_rank),
                                (SELECT min(rank) FROM sequence_pictures
                                 WHERE sequence_id = sequence AND rank > at_rank)));
    UPDATE sequences SET updated_at = greatest(clock_timestamp(), updated_at)
    WHERE id = sequence;
END;
$$;

CREATE FUNCTION sequence_pictures_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM touch_rank(OLD.sequence_id, OLD.picture_id, OLD.rank);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM touch_rank(NEW.sequence_id, NEW.picture_id, NEW.rank);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER sequence_pictures_updated_at AFTER INSERT OR DELETE ON sequence_pictures
FOR EACH ROW EXECUTE FUNCTION sequence_pictures_updated_at();

CREATE TRIGGER sequence_pictures_updated_at_move AFTER UPDATE ON sequence_pictures
FOR EACH ROW
WHEN (ROW(OLD.sequence_id, OLD.rank, OLD.picture_id)
      IS DISTINCT FROM ROW(NEW.sequence_id, NEW.rank, NEW.picture_id))
EXECUTE FUNCTION sequence_pictures_updated_at();

-- Tags: only `updated_at` is written, so what the map shows stays.
CREATE FUNCTION sequence_semantics_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sequences SET updated_at = greatest(clock_timestamp(), updated_at)
    WHERE (TG_OP <> 'INSERT' AND id = OLD.sequence_id)
       OR (TG_OP <> 'DELETE' AND id = NEW.sequence_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER sequence_semantics_updated_at AFTER INSERT OR DELETE ON sequence_semantics
FOR EACH ROW EXECUTE FUNCTION sequence_semantics_updated_at();

CREATE TRIGGER sequence_semantics_updated_at_change AFTER UPDATE ON sequence_semantics
FOR EACH ROW
WHEN (ROW(OLD.sequence_id, OLD.key, OLD.value) IS DISTINCT FROM
      ROW(NEW.sequence_id, NEW.key, NEW.value))
EXECUTE FUNCTION sequence_semantics_updated_at();

CREATE FUNCTION picture_semantics_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched uuid[];
BEGIN
    touched := CASE TG_OP
        WHEN 'INSERT' THEN ARRAY[NEW.picture_id]
        WHEN 'DELETE' THEN ARRAY[OLD.picture_id]
        ELSE ARRAY[OLD.picture_id, NEW.picture_id]
    END;
    UPDATE pictures SET updated_at = greatest(clock_timestamp(), updated_at)
    WHERE id = ANY (touched);
    UPDATE sequences SET updated_at = greatest(clock_timestamp(), updated_at)
    WHERE id IN (SELECT sequence_id FROM sequence_pictures WHERE picture_id = ANY (touched));
    RETURN NULL;
END;
$$;

CREATE TRIGGER picture_semantics_updated_at AFTER INSERT OR DELETE ON picture_semantics
FOR EACH ROW EXECUTE FUNCTION picture_semantics_updated_at();

CREATE TRIGGER picture_semantics_updated_at_change AFTER UPDATE ON picture_semantics
FOR EACH ROW
WHEN (ROW(OLD.picture_id, OLD.key, OLD.value) IS DISTINCT FROM
      ROW(NEW.picture_id, NEW.key, NEW.value))
EXECUTE FUNCTION picture_semantics_updated_at();
