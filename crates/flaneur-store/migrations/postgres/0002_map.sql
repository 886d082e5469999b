-- What the map is drawn from: the data version tile ETags carry, sequence lines and the picture
-- grid stored for the map, and the indexes search and map reads page through.
--
-- A picture "counts" on the grid when it is ready and visible to anyone, and ranked in a ready
-- sequence visible to anyone.
--
-- Several processes write at once here, each in its own transaction: nothing below keeps a
-- row that concurrent writers would all update (they would wait for each other, or deadlock
-- when they take their locks in another order), and nothing derives a row from data a
-- concurrent transaction may be changing. Lines and grid cells are therefore not computed by
-- the triggers: the triggers only record which sequences to redraw, in the transaction of the
-- write, and the catalog redraws them from committed rows before it answers a map read.

-- 1. Data version: moved by every transaction that may change what the map shows, when it
--    commits. The counter is written once per transaction, at commit (deferred triggers), so
--    the row is locked for an instant only and always last: writers neither queue behind it
--    for the length of their transactions nor deadlock on it. Readers see the new version
--    exactly when they see the rows it counts.
CREATE TABLE data_version (
    id integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL,
    -- The transaction that moved it last, so that one transaction moves it once.
    moved_by xid8
);
INSERT INTO data_version (id, version) VALUES (1, 1);

-- A random id drawn when the catalog is created: the versions of two catalogs, or of a
-- catalog made again from scratch, never read alike.
CREATE TABLE catalog_identity (
    id integer PRIMARY KEY CHECK (id = 1),
    catalog_id text NOT NULL
);
INSERT INTO catalog_identity (id, catalog_id)
VALUES (1, replace(gen_random_uuid()::text, '-', ''));

CREATE FUNCTION data_version_move() RETURNS void LANGUAGE sql AS $$
    UPDATE data_version SET version = version + 1, moved_by = pg_current_xact_id()
    WHERE moved_by IS DISTINCT FROM pg_current_xact_id();
$$;

-- A rank added, removed or moved: which pictures the map shows changes.
CREATE FUNCTION data_version_ranks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM data_version_move();
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER data_version_ranks AFTER INSERT OR UPDATE OR DELETE
ON sequence_pictures DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION data_version_ranks();

-- A ranked picture that is or was ready changing (place, heading, metadata, visibility). A
-- picture not ranked yet, or never ready, shows nowhere on the map; an UPDATE of `updated_at`
-- alone changes nothing the map shows.
CREATE FUNCTION data_version_pictures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM sequence_pictures WHERE picture_id = NEW.id) THEN
        PERFORM data_version_move();
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER data_version_pictures AFTER UPDATE ON pictures
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW
WHEN ((OLD.status = 'ready' OR NEW.status = 'ready')
      AND ROW(OLD.id, OLD.upload_set_id, OLD.account_id, OLD.status, OLD.visibility,
              OLD.captured_at, OLD.lon, OLD.lat, OLD.heading_deg, OLD.heading_computed,
              OLD.projection, OLD.content_md5, OLD.file_name, OLD.created_at,
              OLD.process_error, OLD.doc)
          IS DISTINCT FROM
          ROW(NEW.id, NEW.upload_set_id, NEW.account_id, NEW.status, NEW.visibility,
              NEW.captured_at, NEW.lon, NEW.lat, NEW.heading_deg, NEW.heading_computed,
              NEW.projection, NEW.content_md5, NEW.file_name, NEW.created_at,
              NEW.process_error, NEW.doc))
EXECUTE FUNCTION data_version_pictures();

-- A ranked sequence changing what its line shows or who may see it.
CREATE FUNCTION data_version_sequences() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM sequence_pictures WHERE sequence_id = NEW.id) THEN
        PERFORM data_version_move();
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER data_version_sequences AFTER UPDATE ON sequences
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW
WHEN (ROW(OLD.status, OLD.visibility, OLD.account_id, OLD.created_at, OLD.gps_accuracy_m)
      IS DISTINCT FROM
      ROW(NEW.status, NEW.visibility, NEW.account_id, NEW.created_at, NEW.gps_accuracy_m))
EXECUTE FUNCTION data_version_sequences();

-- 2. Sequences to redraw. Marks are only ever inserted, never updated, so that marking takes
--    no lock another writer may hold: a redraw deletes the marks it saw, then reads the rows
--    they stand for; a mark committed meanwhile stays for the next redraw. A transaction marks
--    a sequence once.
CREATE TABLE map_sequences_stale (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sequence_id uuid NOT NULL,
    marked_by xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX map_sequences_stale_sequence ON map_sequences_stale (sequence_id);

CREATE FUNCTION map_mark_stale(sequence uuid) RETURNS void LANGUAGE sql AS $$
    INSERT INTO map_sequences_stale (sequence_id)
    SELECT sequence
    WHERE NOT EXISTS (SELECT 1 FROM map_sequences_stale
                      WHERE sequence_id = sequence AND marked_by = pg_current_xact_id());
$$;

CREATE FUNCTION map_stale_ranks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM map_mark_stale(OLD.sequence_id);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM map_mark_stale(NEW.sequence_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER map_stale_ranks AFTER INSERT OR DELETE ON sequence_pictures
FOR EACH ROW EXECUTE FUNCTION map_stale_ranks();

CREATE TRIGGER map_stale_ranks_move AFTER UPDATE ON sequence_pictures
FOR EACH ROW
WHEN (ROW(OLD.sequence_id, OLD.rank, OLD.picture_id)
      IS DISTINCT FROM ROW(NEW.sequence_id, NEW.rank, NEW.picture_id))
EXECUTE FUNCTION map_stale_ranks();

-- A picture changing what its sequence's line, properties or grid cells are drawn from.
CREATE FUNCTION map_stale_pictures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM map_mark_stale(sequence_id) FROM sequence_pictures WHERE picture_id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER map_stale_pictures
AFTER UPDATE OF status, visibility, lon, lat, captured_at, projection, doc ON pictures
FOR EACH ROW
WHEN (ROW(OLD.status, OLD.visibility, OLD.lon, OLD.lat, OLD.captured_at, OLD.projection,
          OLD.doc)
      IS DISTINCT FROM
      ROW(NEW.status, NEW.visibility, NEW.lon, NEW.lat, NEW.captured_at, NEW.projection,
          NEW.doc))
EXECUTE FUNCTION map_stale_pictures();

-- Which pictures a line passes through depends on the sequence's visibility; whether they
-- count on the grid on its status too.
CREATE FUNCTION map_stale_sequences() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM map_mark_stale(NEW.id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER map_stale_sequences AFTER UPDATE OF status, visibility ON sequences
FOR EACH ROW
WHEN (ROW(OLD.status, OLD.visibility) IS DISTINCT FROM ROW(NEW.status, NEW.visibility))
EXECUTE FUNCTION map_stale_sequences();

-- 3. Sequence lines, redrawn from their ready pictures in rank order.
CREATE TABLE map_sequences (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sequence_id uuid NOT NULL UNIQUE REFERENCES sequences (id) ON DELETE CASCADE,
    -- Parts of the line (see the store's `track` module for the byte layout) and the copy
    -- simplified at 0.01° for the first sequence zoom.
    lines bytea NOT NULL,
    lines_simplified bytea NOT NULL,
    -- The same parts as a geometry, for the space index (a part of one point is drawn as a
    -- segment of no length).
    geom geometry(MultiLineString, 4326) NOT NULL,
    -- What the sequence layer shows, from the sequence's first drawn picture: camera,
    -- projection; and the day of its earliest one.
    model text,
    projection text,
    capture_date text,
    h_pixel_density bigint
);
CREATE INDEX map_sequences_geom ON map_sequences USING gist (geom);

-- 4. Grid: the pictures of each sequence that count, per point of the 0.1° grid, redrawn with
--    its line. A cell is keyed by the indices of its point, `round(lon / 0.1)` and
--    `round(lat / 0.1)`, rounded half away from zero.
CREATE TABLE map_grid (
    sequence_id uuid NOT NULL REFERENCES sequences (id) ON DELETE CASCADE,
    cell_x integer NOT NULL,
    cell_y integer NOT NULL,
    nb_pictures bigint NOT NULL,
    nb_360_pictures bigint NOT NULL,
    PRIMARY KEY (sequence_id, cell_x, cell_y)
);

-- 5. Listings of sequences sorted by capture time, written exactly as the listing query
--    writes it (a sequence without pictures sorts as if taken at the epoch).
CREATE INDEX sequences_captured
ON sequences ((coalesce(min_captured_at, TIMESTAMPTZ 'epoch')), id);

-- Sequences already there are drawn at the first map read.
INSERT INTO map_sequences_stale (sequence_id) SELECT id FROM sequences;
