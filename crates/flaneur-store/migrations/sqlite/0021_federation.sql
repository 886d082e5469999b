-- Federation: the peers this instance harvests, and what it keeps of them.
--
-- A peer's collections and items go in the same tables as local sequences and pictures, and
-- their authors in `accounts`, each row naming its peer in `peer_id` (NULL: local). Search,
-- listings, the extent, the map tables and their triggers and the data version so cover them
-- with no change to their queries. Remote rows are ready and visible to anyone; the JSON a
-- peer sent is kept beside them (`remote_doc`) for serving them as it described them.
--
-- This migration rebuilds `accounts` (an account name was unique over every row, and a peer's
-- "bob" must not fail a harvest, nor take the name from a local "bob"), so the catalog runs it
-- with foreign keys off and checks them before it commits.

CREATE TABLE peers (
    id TEXT PRIMARY KEY,
    -- API root, without a trailing slash.
    api_url TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL CHECK (source IN ('config', 'admin')),
    is_paused INTEGER NOT NULL DEFAULT 0,
    added_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    last_success_at INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error TEXT,
    -- Where the next harvest starts: the peer's `updated` of the last collection applied in
    -- order, and the listing page an interrupted harvest was about to read.
    watermark INTEGER,
    resume_url TEXT,
    -- Kept by each apply and removal, so that listing peers counts nothing.
    nb_collections INTEGER NOT NULL DEFAULT 0,
    nb_items INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE accounts_rebuilt (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    oauth_provider TEXT,
    oauth_id TEXT,
    default_visibility TEXT,
    collaborative_metadata INTEGER,
    tos_accepted_at INTEGER,
    deleted_at INTEGER,
    tos_latest_change_read_at INTEGER,
    -- An author of a peer's data: it never logs in, and is known there by `remote_key` (its
    -- account id at the peer, or its name when the peer gives no id).
    peer_id TEXT REFERENCES peers(id),
    remote_key TEXT,
    CHECK ((peer_id IS NULL) = (remote_key IS NULL))
);
INSERT INTO accounts_rebuilt (id, name, is_default, created_at, role, oauth_provider, oauth_id,
                              default_visibility, collaborative_metadata, tos_accepted_at,
                              deleted_at, tos_latest_change_read_at)
SELECT id, name, is_default, created_at, role, oauth_provider, oauth_id, default_visibility,
       collaborative_metadata, tos_accepted_at, deleted_at, tos_latest_change_read_at
FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_rebuilt RENAME TO accounts;
-- Names are unique among local accounts only.
CREATE UNIQUE INDEX accounts_name ON accounts(name) WHERE peer_id IS NULL;
CREATE UNIQUE INDEX accounts_oauth ON accounts(oauth_provider, oauth_id);
CREATE UNIQUE INDEX accounts_remote ON accounts(peer_id, remote_key) WHERE peer_id IS NOT NULL;

ALTER TABLE sequences ADD COLUMN peer_id TEXT REFERENCES peers(id);
-- The collection's JSON as received, and its `updated` at the peer.
ALTER TABLE sequences ADD COLUMN remote_doc TEXT;
ALTER TABLE sequences ADD COLUMN remote_updated_at INTEGER;
CREATE INDEX sequences_peer ON sequences(peer_id) WHERE peer_id IS NOT NULL;

ALTER TABLE pictures ADD COLUMN peer_id TEXT REFERENCES peers(id);
-- The item's JSON as received.
ALTER TABLE pictures ADD COLUMN remote_doc TEXT;
CREATE INDEX pictures_peer ON pictures(peer_id) WHERE peer_id IS NOT NULL;

-- The new columns are content too (see the `updated_at` migration): a change of them alone
-- moves `updated_at` as a change of the others does.
CREATE TRIGGER pictures_updated_at_remote AFTER UPDATE OF peer_id, remote_doc ON pictures
WHEN OLD.peer_id IS NOT NEW.peer_id OR OLD.remote_doc IS NOT NEW.remote_doc
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER),
                         OLD.updated_at, NEW.updated_at)
    WHERE id = NEW.id;
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (SELECT sequence_id FROM sequence_pictures WHERE picture_id = NEW.id);
END;

CREATE TRIGGER sequences_updated_at_remote
AFTER UPDATE OF peer_id, remote_doc, remote_updated_at ON sequences
WHEN OLD.peer_id IS NOT NEW.peer_id OR OLD.remote_doc IS NOT NEW.remote_doc
     OR OLD.remote_updated_at IS NOT NEW.remote_updated_at
BEGIN
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER),
                         OLD.updated_at, NEW.updated_at)
    WHERE id = NEW.id;
END;
