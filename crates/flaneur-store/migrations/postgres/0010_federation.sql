-- Federation: the peers this instance harvests, and what it keeps of them.
--
-- A peer's collections and items go in the same tables as local sequences and pictures, and
-- their authors in `accounts`, each row naming its peer in `peer_id` (NULL: local). Search,
-- listings, the extent, the map (stale marks, grid, data version) so cover them with no
-- change to their queries. Remote rows are ready and visible to anyone; the JSON a peer sent
-- is kept beside them (`remote_doc`) for serving them as it described them.

CREATE TABLE peers (
    id uuid PRIMARY KEY,
    -- API root, without a trailing slash.
    api_url text NOT NULL UNIQUE,
    source text NOT NULL CHECK (source IN ('config', 'admin')),
    is_paused boolean NOT NULL DEFAULT false,
    added_at timestamptz NOT NULL,
    last_attempt_at timestamptz,
    last_success_at timestamptz,
    failures bigint NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error text,
    -- Where the next harvest starts: the peer's `updated` of the last collection applied in
    -- order, and the listing page an interrupted harvest was about to read.
    watermark timestamptz,
    resume_url text,
    -- Kept by each apply and removal, so that listing peers counts nothing.
    nb_collections bigint NOT NULL DEFAULT 0,
    nb_items bigint NOT NULL DEFAULT 0
);

-- An author of a peer's data never logs in, and is known there by `remote_key` (its account
-- id at the peer, or its name when the peer gives no id). Names are unique among local
-- accounts only: a peer's "bob" neither fails a harvest nor takes the name from a local one.
ALTER TABLE accounts
    ADD COLUMN peer_id uuid REFERENCES peers (id),
    ADD COLUMN remote_key text,
    ADD CHECK ((peer_id IS NULL) = (remote_key IS NULL)),
    DROP CONSTRAINT accounts_name_key;
CREATE UNIQUE INDEX accounts_name ON accounts (name) WHERE peer_id IS NULL;
CREATE UNIQUE INDEX accounts_remote ON accounts (peer_id, remote_key) WHERE peer_id IS NOT NULL;

-- The collection's JSON as received, and its `updated` at the peer.
ALTER TABLE sequences
    ADD COLUMN peer_id uuid REFERENCES peers (id),
    ADD COLUMN remote_doc jsonb,
    ADD COLUMN remote_updated_at timestamptz;
CREATE INDEX sequences_peer ON sequences (peer_id) WHERE peer_id IS NOT NULL;

-- The item's JSON as received.
ALTER TABLE pictures
    ADD COLUMN peer_id uuid REFERENCES peers (id),
    ADD COLUMN remote_doc jsonb;
CREATE INDEX pictures_peer ON pictures (peer_id) WHERE peer_id IS NOT NULL;

-- The new columns are content too (see the `updated_at` rules of the catalog migration): a
-- change of them alone moves `updated_at` as a change of the others does.
CREATE OR REPLACE FUNCTION pictures_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ROW(OLD.id, OLD.upload_set_id, OLD.account_id, OLD.status, OLD.visibility,
           OLD.captured_at, OLD.lon, OLD.lat, OLD.heading_deg, OLD.heading_computed,
           OLD.projection, OLD.content_md5, OLD.file_name, OLD.created_at, OLD.process_error,
           OLD.doc, OLD.peer_id, OLD.remote_doc)
       IS DISTINCT FROM
       ROW(NEW.id, NEW.upload_set_id, NEW.account_id, NEW.status, NEW.visibility,
           NEW.captured_at, NEW.lon, NEW.lat, NEW.heading_deg, NEW.heading_computed,
           NEW.projection, NEW.content_md5, NEW.file_name, NEW.created_at, NEW.process_error,
           NEW.doc, NEW.peer_id, NEW.remote_doc)
    THEN
        NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at, NEW.updated_at);
    ELSE
        NEW.updated_at := greatest(OLD.updated_at, NEW.updated_at);
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER pictures_updated_at_sequences ON pictures;
CREATE TRIGGER pictures_updated_at_sequences AFTER UPDATE ON pictures
FOR EACH ROW
WHEN (ROW(OLD.id, OLD.upload_set_id, OLD.account_id, OLD.status, OLD.visibility,
          OLD.captured_at, OLD.lon, OLD.lat, OLD.heading_deg, OLD.heading_computed,
          OLD.projection, OLD.content_md5, OLD.file_name, OLD.created_at, OLD.process_error,
          OLD.doc, OLD.peer_id, OLD.remote_doc)
      IS DISTINCT FROM
      ROW(NEW.id, NEW.upload_set_id, NEW.account_id, NEW.status, NEW.visibility,
          NEW.captured_at, NEW.lon, NEW.lat, NEW.heading_deg, NEW.heading_computed,
          NEW.projection, NEW.content_md5, NEW.file_name, NEW.created_at, NEW.process_error,
          NEW.doc, NEW.peer_id, NEW.remote_doc))
EXECUTE FUNCTION pictures_updated_at_sequences();

CREATE OR REPLACE FUNCTION sequences_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ROW(OLD.id, OLD.upload_set_id, OLD.account_id, OLD.title, OLD.status, OLD.visibility,
           OLD.sorted_by, OLD.user_agent, OLD.relative_heading_deg, OLD.created_at,
           OLD.nb_pictures, OLD.min_captured_at, OLD.max_captured_at, OLD.min_lon, OLD.min_lat,
           OLD.max_lon, OLD.max_lat, OLD.length_km, OLD.gps_accuracy_m, OLD.peer_id,
           OLD.remote_doc, OLD.remote_updated_at)
       IS DISTINCT FROM
       ROW(NEW.id, NEW.upload_set_id, NEW.account_id, NEW.title, NEW.status, NEW.visibility,
           NEW.sorted_by, NEW.user_agent, NEW.relative_heading_deg, NEW.created_at,
           NEW.nb_pictures, NEW.min_captured_at, NEW.max_captured_at, NEW.min_lon, NEW.min_lat,
           NEW.max_lon, NEW.max_lat, NEW.length_km, NEW.gps_accuracy_m, NEW.peer_id,
           NEW.remote_doc, NEW.remote_updated_at)
    THEN
        NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at, NEW.updated_at);
    ELSE
        NEW.updated_at := greatest(OLD.updated_at, NEW.updated_at);
    END IF;
    RETURN NEW;
END;
$$;
