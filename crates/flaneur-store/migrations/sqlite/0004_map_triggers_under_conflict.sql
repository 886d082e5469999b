-- The stale marks of the `map_sequences` migration, redone so they hold under any conflict
-- clause of the write that fires them.
--
-- A trigger's `INSERT OR IGNORE` takes the conflict algorithm of the outer statement instead of
-- its own: under an upsert's DO UPDATE (which aborts) marking a sequence already marked failed
-- the whole write. An upsert clause in the trigger is its own and is kept whatever the outer
-- statement says.

DROP TRIGGER map_stale_rank_insert;
DROP TRIGGER map_stale_rank_delete;
DROP TRIGGER map_stale_rank_update;
DROP TRIGGER map_stale_picture_update;
DROP TRIGGER map_stale_sequence_update;

CREATE TRIGGER map_stale_rank_insert AFTER INSERT ON sequence_pictures
BEGIN
    INSERT INTO map_sequences_stale VALUES (NEW.sequence_id) ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER map_stale_rank_delete AFTER DELETE ON sequence_pictures
BEGIN
    INSERT INTO map_sequences_stale VALUES (OLD.sequence_id) ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER map_stale_rank_update AFTER UPDATE ON sequence_pictures
BEGIN
    INSERT INTO map_sequences_stale VALUES (OLD.sequence_id) ON CONFLICT DO NOTHING;
    INSERT INTO map_sequences_stale VALUES (NEW.sequence_id) ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER map_stale_picture_update
AFTER UPDATE OF status, visibility, lon, lat, captured_at, projection, doc ON pictures
BEGIN
    INSERT INTO map_sequences_stale
    SELECT sequence_id FROM sequence_pictures WHERE picture_id = NEW.id
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER map_stale_sequence_update AFTER UPDATE OF visibility ON sequences
BEGIN
    INSERT INTO map_sequences_stale VALUES (NEW.id) ON CONFLICT DO NOTHING;
END;
