-- Semantic tags move `updated_at` as the rows they describe do (see the `updated_at`
-- migration): a tag of a sequence added, removed or changed moves the sequence's; a tag of a
-- picture moves the picture's and its sequence's, since harvesters find changed pictures
-- through their sequence. Only `updated_at` is written, so the map's version stays.
--
-- A picture or sequence deleted takes its tags along by cascade, after its row is gone: the
-- updates below then find no row.

CREATE TRIGGER sequence_semantics_updated_at_insert AFTER INSERT ON sequence_semantics
BEGIN
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id = NEW.sequence_id;
END;

CREATE TRIGGER sequence_semantics_updated_at_delete AFTER DELETE ON sequence_semantics
BEGIN
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id = OLD.sequence_id;
END;

CREATE TRIGGER sequence_semantics_updated_at_update AFTER UPDATE ON sequence_semantics
WHEN OLD.sequence_id IS NOT NEW.sequence_id OR OLD.key IS NOT NEW.key
     OR OLD.value IS NOT NEW.value
BEGIN
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (OLD.sequence_id, NEW.sequence_id);
END;

CREATE TRIGGER picture_semantics_updated_at_insert AFTER INSERT ON picture_semantics
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id = NEW.picture_id;
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (SELECT sequence_id FROM sequence_pictures WHERE picture_id = NEW.picture_id);
END;

CREATE TRIGGER picture_semantics_updated_at_delete AFTER DELETE ON picture_semantics
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id = OLD.picture_id;
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (SELECT sequence_id FROM sequence_pictures WHERE picture_id = OLD.picture_id);
END;

CREATE TRIGGER picture_semantics_updated_at_update AFTER UPDATE ON picture_semantics
WHEN OLD.picture_id IS NOT NEW.picture_id OR OLD.key IS NOT NEW.key
     OR OLD.value IS NOT NEW.value
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (OLD.picture_id, NEW.picture_id);
    UPDATE sequences
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (SELECT sequence_id FROM sequence_pictures
                 WHERE picture_id IN (OLD.picture_id, NEW.picture_id));
END;
