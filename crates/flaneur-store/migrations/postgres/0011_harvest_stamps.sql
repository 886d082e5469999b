-- A harvest writes thousands of ranks of one sequence in one transaction. Moving the stamps of
-- the sequence and of each rank's neighbours for every row updated the one sequence row
-- thousands of times in that transaction, each update slower than the one before (20 s to
-- 2 min for a collection of 5,000 items). A transaction that sets `flaneur.stamp_ranks` to
-- `off` (with `set_config(..., true)`, so for itself only) writes those stamps itself, once.
CREATE OR REPLACE FUNCTION sequence_pictures_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('flaneur.stamp_ranks', true) = 'off' THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM touch_rank(OLD.sequence_id, OLD.picture_id, OLD.rank);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM touch_rank(NEW.sequence_id, NEW.picture_id, NEW.rank);
    END IF;
    RETURN NULL;
END;
$$;
