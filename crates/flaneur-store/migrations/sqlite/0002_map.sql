-- What the map is drawn from, kept current by triggers in the same transaction as every write
-- to accounts, pictures, sequences and their ranks: a write path added later cannot forget it.
--
-- A picture "counts" on the map when it is ready and visible to anyone, and ranked in a ready
-- sequence visible to anyone.

-- 1. Data version: one counter bumped by every row written to what reads show. Tile ETags and
--    the tile cache key on it; reading it costs one row.
CREATE TABLE data_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 1);

CREATE TRIGGER data_version_accounts_insert AFTER INSERT ON accounts
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_accounts_update AFTER UPDATE ON accounts
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_accounts_delete AFTER DELETE ON accounts
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_pictures_insert AFTER INSERT ON pictures
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_pictures_update AFTER UPDATE ON pictures
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_pictures_delete AFTER DELETE ON pictures
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_sequences_insert AFTER INSERT ON sequences
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_sequences_update AFTER UPDATE ON sequences
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_sequences_delete AFTER DELETE ON sequences
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_ranks_insert AFTER INSERT ON sequence_pictures
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_ranks_update AFTER UPDATE ON sequence_pictures
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_ranks_delete AFTER DELETE ON sequence_pictures
BEGIN UPDATE data_version SET version = version + 1; END;

-- 2. Grid: pictures that count, per point of the 0.1° grid. A cell is keyed by the indices
--    of its point, `round(lon / 0.1)` and `round(lat / 0.1)`, which snap as PostGIS's
--    ST_SnapToGrid does. Cells are changed by deltas, never recounted; empty ones stay at 0.
CREATE TABLE map_grid (
    cell_x INTEGER NOT NULL,
    cell_y INTEGER NOT NULL,
    nb_pictures INTEGER NOT NULL,
    nb_360_pictures INTEGER NOT NULL,
    PRIMARY KEY (cell_x, cell_y)
) WITHOUT ROWID;

-- Inserting a row here adds it to the grid, so each trigger below only says which pictures
-- start or stop counting (with +1 or -1) and where.
CREATE VIEW map_grid_delta AS
SELECT cell_x, cell_y, nb_pictures AS delta, nb_360_pictures AS is_360 FROM map_grid WHERE 0;

CREATE TRIGGER map_grid_delta_apply INSTEAD OF INSERT ON map_grid_delta
BEGIN
    INSERT INTO map_grid (cell_x, cell_y, nb_pictures, nb_360_pictures)
    VALUES (NEW.cell_x, NEW.cell_y, NEW.delta, NEW.delta * NEW.is_360)
    ON CONFLICT (cell_x, cell_y) DO UPDATE SET
        nb_pictures = nb_pictures + excluded.nb_pictures,
        nb_360_pictures = nb_360_pictures + excluded.nb_360_pictures;
END;

-- Ranking a picture in a sequence, or taking it out.
CREATE TRIGGER map_grid_rank_insert AFTER INSERT ON sequence_pictures
BEGIN
    INSERT INTO map_grid_delta
    SELECT CAST(round(p.lon / 0.1) AS INTEGER), CAST(round(p.lat / 0.1) AS INTEGER), 1,
           p.projection = 'equirectangular'
    FROM pictures p, sequences s
    WHERE p.id = NEW.picture_id AND s.id = NEW.sequence_id
      AND p.status = 'ready' AND p.visibility = 'anyone'
      AND s.status = 'ready' AND s.visibility = 'anyone';
END;

CREATE TRIGGER map_grid_rank_delete AFTER DELETE ON sequence_pictures
BEGIN
    INSERT INTO map_grid_delta
    SELECT CAST(round(p.lon / 0.1) AS INTEGER), CAST(round(p.lat / 0.1) AS INTEGER), -1,
           p.projection = 'equirectangular'
    FROM pictures p, sequences s
    WHERE p.id = OLD.picture_id AND s.id = OLD.sequence_id
      AND p.status = 'ready' AND p.visibility = 'anyone'
      AND s.status = 'ready' AND s.visibility = 'anyone';
END;

CREATE TRIGGER map_grid_rank_move AFTER UPDATE OF sequence_id, picture_id ON sequence_pictures
BEGIN
    INSERT INTO map_grid_delta
    SELECT CAST(round(p.lon / 0.1) AS INTEGER), CAST(round(p.lat / 0.1) AS INTEGER), -1,
           p.projection = 'equirectangular'
    FROM pictures p, sequences s
    WHERE p.id = OLD.picture_id AND s.id = OLD.sequence_id
      AND p.status = 'ready' AND p.visibility = 'anyone'
      AND s.status = 'ready' AND s.visibility = 'anyone';
    INSERT INTO map_grid_delta
    SELECT CAST(round(p.lon / 0.1) AS INTEGER), CAST(round(p.lat / 0.1) AS INTEGER), 1,
           p.projection = 'equirectangular'
    FROM pictures p, sequences s
    WHERE p.id = NEW.picture_id AND s.id = NEW.sequence_id
      AND p.status = 'ready' AND p.visibility = 'anyone'
      AND s.status = 'ready' AND s.visibility = 'anyone';
END;

-- A picture or sequence row about to go takes its ranks with it first, while both rows still
-- exist, so the rank triggers above see what counted. (The foreign keys would cascade too, but
-- only after the row is gone.)
CREATE TRIGGER map_grid_picture_delete BEFORE DELETE ON pictures
BEGIN
    DELETE FROM sequence_pictures WHERE picture_id = OLD.id;
END;

CREATE TRIGGER map_grid_sequence_delete BEFORE DELETE ON sequences
BEGIN
    DELETE FROM sequence_pictures WHERE sequence_id = OLD.id;
END;

-- A picture changing state, visibility, place or projection: out of its old cell if it
-- counted, into its new one if it counts.
CREATE TRIGGER map_grid_picture_update
AFTER UPDATE OF status, visibility, lon, lat, projection ON pictures
BEGIN
    INSERT INTO map_grid_delta
    SELECT CAST(round(OLD.lon / 0.1) AS INTEGER), CAST(round(OLD.lat / 0.1) AS INTEGER), -1,
           OLD.projection = 'equirectangular'
    FROM sequence_pictures sp, sequences s
    WHERE sp.picture_id = OLD.id AND s.id = sp.sequence_id
      AND OLD.status = 'ready' AND OLD.visibility = 'anyone'
      AND s.status = 'ready' AND s.visibility = 'anyone';
    INSERT INTO map_grid_delta
    SELECT CAST(round(NEW.lon / 0.1) AS INTEGER), CAST(round(NEW.lat / 0.1) AS INTEGER), 1,
           NEW.projection = 'equirectangular'
    FROM sequence_pictures sp, sequences s
    WHERE sp.picture_id = NEW.id AND s.id = sp.sequence_id
      AND NEW.status = 'ready' AND NEW.visibility = 'anyone'
      AND s.status = 'ready' AND s.visibility = 'anyone';
END;

-- A sequence published, hidden or tombstoned: its counting pictures, cell by cell (a few
-- hundred rows through the ranks index, not a recount of the cells).
CREATE TRIGGER map_grid_sequence_update AFTER UPDATE OF status, visibility ON sequences
WHEN (OLD.status = 'ready' AND OLD.visibility = 'anyone')
     != (NEW.status = 'ready' AND NEW.visibility = 'anyone')
BEGIN
    INSERT INTO map_grid_delta
    SELECT CAST(round(p.lon / 0.1) AS INTEGER), CAST(round(p.lat / 0.1) AS INTEGER),
           CASE WHEN NEW.status = 'ready' AND NEW.visibility = 'anyone' THEN 1 ELSE -1 END,
           p.projection = 'equirectangular'
    FROM sequence_pictures sp, pictures p
    WHERE sp.sequence_id = NEW.id AND p.id = sp.picture_id
      AND p.status = 'ready' AND p.visibility = 'anyone';
END;

-- The grid of the rows already there.
INSERT INTO map_grid (cell_x, cell_y, nb_pictures, nb_360_pictures)
SELECT CAST(round(p.lon / 0.1) AS INTEGER) AS x, CAST(round(p.lat / 0.1) AS INTEGER) AS y,
       count(*), sum(p.projection = 'equirectangular')
FROM pictures p
JOIN sequence_pictures sp ON sp.picture_id = p.id
JOIN sequences s ON s.id = sp.sequence_id
WHERE p.status = 'ready' AND p.visibility = 'anyone'
  AND s.status = 'ready' AND s.visibility = 'anyone'
GROUP BY x, y;
