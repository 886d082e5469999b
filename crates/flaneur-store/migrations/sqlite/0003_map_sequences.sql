-- Sequence lines stored for the map, so tiles read sequences and never their pictures.
--
-- Triggers only mark a sequence stale when a write may change its line or the values the map
-- shows for it; the catalog redraws stale sequences (in Rust: breaking lines at gaps and
-- simplifying them is no work for SQL) before it answers a map read. A write path added later
-- cannot leave a line out of date: the mark comes with the write, in its transaction.

CREATE TABLE map_sequences (
    -- Rowid, and the id of the sequence's box in map_sequences_rtree.
    id INTEGER PRIMARY KEY,
    sequence_id TEXT NOT NULL UNIQUE REFERENCES sequences(id) ON DELETE CASCADE,
    -- Parts of the line (see the store's `track` module for the byte layout) and the copy
    -- simplified at 0.01° for the first sequence zoom.
    lines BLOB NOT NULL,
    lines_simplified BLOB NOT NULL,
    -- What the sequence layer shows, from the sequence's first drawn picture: camera, projection;
    -- and the day of its earliest one.
    model TEXT,
    projection TEXT,
    capture_date TEXT,
    h_pixel_density INTEGER
);

CREATE VIRTUAL TABLE map_sequences_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat);

CREATE TRIGGER map_sequences_delete AFTER DELETE ON map_sequences
BEGIN
    DELETE FROM map_sequences_rtree WHERE id = OLD.id;
END;

CREATE TABLE map_sequences_stale (
    sequence_id TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TRIGGER map_stale_rank_insert AFTER INSERT ON sequence_pictures
BEGIN
    INSERT OR IGNORE INTO map_sequences_stale VALUES (NEW.sequence_id);
END;

CREATE TRIGGER map_stale_rank_delete AFTER DELETE ON sequence_pictures
BEGIN
    INSERT OR IGNORE INTO map_sequences_stale VALUES (OLD.sequence_id);
END;

CREATE TRIGGER map_stale_rank_update AFTER UPDATE ON sequence_pictures
BEGIN
    INSERT OR IGNORE INTO map_sequences_stale VALUES (OLD.sequence_id);
    INSERT OR IGNORE INTO map_sequences_stale VALUES (NEW.sequence_id);
END;

CREATE TRIGGER map_stale_picture_update
AFTER UPDATE OF status, visibility, lon, lat, captured_at, projection, doc ON pictures
BEGIN
    INSERT OR IGNORE INTO map_sequences_stale
    SELECT sequence_id FROM sequence_pictures WHERE picture_id = NEW.id;
END;

-- Which pictures a line passes through depends on the sequence's visibility.
CREATE TRIGGER map_stale_sequence_update AFTER UPDATE OF visibility ON sequences
BEGIN
    INSERT OR IGNORE INTO map_sequences_stale VALUES (NEW.id);
END;

-- Sequences already there are drawn at the first map read after the upgrade.
INSERT INTO map_sequences_stale SELECT id FROM sequences WHERE status != 'deleted';
