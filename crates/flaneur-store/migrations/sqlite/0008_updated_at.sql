-- `updated_at` of pictures and sequences kept by triggers, in the transaction of every write:
-- harvesters list what changed since their last visit by this column, so a write path that
-- forgot it would hide a change from every federated catalog.
--
-- Rules:
-- - a picture row whose content changes gets a new `updated_at`, and so do the sequences it is
--   ranked in; a picture deleted leaves its sequence through its rank, which counts as below;
-- - a sequence row whose content changes gets a new `updated_at`;
-- - a rank added, removed or moved gets a new `updated_at` on each sequence concerned;
-- - `updated_at` never goes backwards, and an UPDATE that changes nothing moves nothing.
-- A writer may still move `updated_at` alone (a change kept in another table, such as tags).
--
-- "Content" is every column but `updated_at`: a column added to either table later must be
-- added to the comparisons below. The triggers write only `updated_at`, which fires none of
-- the map's triggers (they name their columns) and none of these again (content unchanged).
-- 'now' is read once per statement, at millisecond precision; stored values are microseconds.
--
-- Sequences are never deleted (they become tombstones): the rank triggers update the
-- sequence, which would be undefined inside the BEFORE DELETE trigger of a sequence.

CREATE TRIGGER pictures_updated_at AFTER UPDATE ON pictures
WHEN OLD.id IS NOT NEW.id OR OLD.upload_set_id IS NOT NEW.upload_set_id
     OR OLD.account_id IS NOT NEW.account_id OR OLD.status IS NOT NEW.status
     OR OLD.visibility IS NOT NEW.visibility OR OLD.captured_at IS NOT NEW.captured_at
     OR OLD.lon IS NOT NEW.lon OR OLD.lat IS NOT NEW.lat
     OR OLD.heading_deg IS NOT NEW.heading_deg OR OLD.heading_computed IS NOT NEW.heading_computed
     OR OLD.projection IS NOT NEW.projection OR OLD.content_md5 IS NOT NEW.content_md5
     OR OLD.file_name IS NOT NEW.file_name OR OLD.created_at IS NOT NEW.created_at
     OR OLD.process_error IS NOT NEW.process_error OR OLD.doc IS NOT NEW.doc
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER),
                         OLD.updated_at, NEW.updated_at)
    WHERE id = NEW.id;
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (SELECT sequence_id FROM sequence_pictures WHERE picture_id = NEW.id);
END;

CREATE TRIGGER pictures_updated_at_forward AFTER UPDATE OF updated_at ON pictures
WHEN NEW.updated_at < OLD.updated_at
BEGIN
    UPDATE pictures SET updated_at = max(updated_at, OLD.updated_at) WHERE id = NEW.id;
END;

CREATE TRIGGER sequences_updated_at AFTER UPDATE ON sequences
WHEN OLD.id IS NOT NEW.id OR OLD.upload_set_id IS NOT NEW.upload_set_id
     OR OLD.account_id IS NOT NEW.account_id OR OLD.title IS NOT NEW.title
     OR OLD.status IS NOT NEW.status OR OLD.visibility IS NOT NEW.visibility
     OR OLD.sorted_by IS NOT NEW.sorted_by OR OLD.user_agent IS NOT NEW.user_agent
     OR OLD.relative_heading_deg IS NOT NEW.relative_heading_deg
     OR OLD.created_at IS NOT NEW.created_at OR OLD.nb_pictures IS NOT NEW.nb_pictures
     OR OLD.min_captured_at IS NOT NEW.min_captured_at
     OR OLD.max_captured_at IS NOT NEW.max_captured_at
     OR OLD.min_lon IS NOT NEW.min_lon OR OLD.min_lat IS NOT NEW.min_lat
     OR OLD.max_lon IS NOT NEW.max_lon OR OLD.max_lat IS NOT NEW.max_lat
     OR OLD.length_km IS NOT NEW.length_km OR OLD.gps_accuracy_m IS NOT NEW.gps_accuracy_m
BEGIN
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER),
                         OLD.updated_at, NEW.updated_at)
    WHERE id = NEW.id;
END;

CREATE TRIGGER sequences_updated_at_forward AFTER UPDATE OF updated_at ON sequences
WHEN NEW.updated_at < OLD.updated_at
BEGIN
    UPDATE sequences SET updated_at = max(updated_at, OLD.updated_at) WHERE id = NEW.id;
END;

CREATE TRIGGER sequences_updated_at_rank_insert AFTER INSERT ON sequence_pictures
BEGIN
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id = NEW.sequence_id;
END;

CREATE TRIGGER sequences_updated_at_rank_delete AFTER DELETE ON sequence_pictures
BEGIN
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id = OLD.sequence_id;
END;

CREATE TRIGGER sequences_updated_at_rank_update AFTER UPDATE ON sequence_pictures
WHEN OLD.sequence_id IS NOT NEW.sequence_id OR OLD.rank IS NOT NEW.rank
     OR OLD.picture_id IS NOT NEW.picture_id
BEGIN
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (OLD.sequence_id, NEW.sequence_id);
END;

-- The map's version followed every UPDATE of a ready ranked picture; one that moves only
-- `updated_at` changes nothing the map shows.
DROP TRIGGER data_version_pictures_update;

CREATE TRIGGER data_version_pictures_update AFTER UPDATE ON pictures
WHEN (OLD.status = 'ready' OR NEW.status = 'ready')
     AND (OLD.id IS NOT NEW.id OR OLD.upload_set_id IS NOT NEW.upload_set_id
     OR OLD.account_id IS NOT NEW.account_id OR OLD.status IS NOT NEW.status
     OR OLD.visibility IS NOT NEW.visibility OR OLD.captured_at IS NOT NEW.captured_at
     OR OLD.lon IS NOT NEW.lon OR OLD.lat IS NOT NEW.lat
     OR OLD.heading_deg IS NOT NEW.heading_deg OR OLD.heading_computed IS NOT NEW.heading_computed
     OR OLD.projection IS NOT NEW.projection OR OLD.content_md5 IS NOT NEW.content_md5
     OR OLD.file_name IS NOT NEW.file_name OR OLD.created_at IS NOT NEW.created_at
     OR OLD.process_error IS NOT NEW.process_error OR OLD.doc IS NOT NEW.doc)
BEGIN
    UPDATE data_version SET version = version + 1
    WHERE EXISTS (SELECT 1 FROM sequence_pictures WHERE picture_id = NEW.id);
END;
