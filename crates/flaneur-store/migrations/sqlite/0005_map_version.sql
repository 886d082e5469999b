-- The data version moves only with writes that may change what the map shows, and names the
-- catalog it counts in.
--
-- Bumped by every row written, it moved with each picture received and each step of its
-- preparation: an upload of a thousand pictures emptied the tile cache thousands of times
-- while no tile changed. A tile shows the grid, the stored lines and the ready pictures of
-- ranked sequences, so the version now moves with:
-- - the grid, whenever a cell changes;
-- - the ranks, whose writes mark lines stale and change which pictures the map shows;
-- - a ranked picture that is or was ready changing (place, heading, metadata, visibility);
-- - a ranked sequence changing what its line shows or who may see it.
-- A picture not ranked yet, or never ready, shows nowhere on the map.

DROP TRIGGER data_version_accounts_insert;
DROP TRIGGER data_version_accounts_update;
DROP TRIGGER data_version_accounts_delete;
DROP TRIGGER data_version_pictures_insert;
DROP TRIGGER data_version_pictures_update;
DROP TRIGGER data_version_pictures_delete;
DROP TRIGGER data_version_sequences_insert;
DROP TRIGGER data_version_sequences_update;
DROP TRIGGER data_version_sequences_delete;
-- data_version_ranks_insert, _update and _delete stay.

CREATE TRIGGER data_version_grid_insert AFTER INSERT ON map_grid
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER data_version_grid_update AFTER UPDATE ON map_grid
BEGIN UPDATE data_version SET version = version + 1; END;

CREATE TRIGGER data_version_pictures_update AFTER UPDATE ON pictures
WHEN OLD.status = 'ready' OR NEW.status = 'ready'
BEGIN
    UPDATE data_version SET version = version + 1
    WHERE EXISTS (SELECT 1 FROM sequence_pictures WHERE picture_id = NEW.id);
END;

CREATE TRIGGER data_version_sequences_update AFTER UPDATE ON sequences
WHEN OLD.status IS NOT NEW.status OR OLD.visibility IS NOT NEW.visibility
     OR OLD.account_id IS NOT NEW.account_id OR OLD.created_at IS NOT NEW.created_at
     OR OLD.gps_accuracy_m IS NOT NEW.gps_accuracy_m
BEGIN
    UPDATE data_version SET version = version + 1
    WHERE EXISTS (SELECT 1 FROM sequence_pictures WHERE sequence_id = NEW.id);
END;

-- A random id drawn when the catalog is created: the versions of two catalogs, or of a
-- catalog made again from scratch, never read alike.
CREATE TABLE catalog_identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    catalog_id TEXT NOT NULL
);
INSERT INTO catalog_identity (id, catalog_id) VALUES (1, lower(hex(randomblob(16))));
