-- A rank added, removed or moved changes what the pictures concerned show (their collection,
-- their `prev` and `next`), not only their sequences: re-dispatch moves pictures between
-- sequences by deleting and inserting ranks. These triggers move `updated_at` of the picture
-- whose rank changed and of its neighbours on both sides in the sequences concerned, so that
-- a harvester searching by `updated` finds them. As everywhere, `updated_at` never goes
-- backwards and only `updated_at` is written, which fires no content trigger of `pictures`.
--
-- A picture deleted takes its rank along by cascade, after its row is gone: the update of
-- that picture then finds no row, and its former neighbours still move.

CREATE TRIGGER pictures_updated_at_rank_insert AFTER INSERT ON sequence_pictures
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id = NEW.picture_id
       OR id IN (SELECT picture_id FROM sequence_pictures
                 WHERE sequence_id = NEW.sequence_id
                   AND rank IN ((SELECT max(rank) FROM sequence_pictures
                                 WHERE sequence_id = NEW.sequence_id AND rank < NEW.rank),
                                (SELECT min(rank) FROM sequence_pictures
                                 WHERE sequence_id = NEW.sequence_id AND rank > NEW.rank)));
END;

CREATE TRIGGER pictures_updated_at_rank_delete AFTER DELETE ON sequence_pictures
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id = OLD.picture_id
       OR id IN (SELECT picture_id FROM sequence_pictures
                 WHERE sequence_id = OLD.sequence_id
                   AND rank IN ((SELECT max(rank) FROM sequence_pictures
                                 WHERE sequence_id = OLD.sequence_id AND rank < OLD.rank),
                                (SELECT min(rank) FROM sequence_pictures
                                 WHERE sequence_id = OLD.sequence_id AND rank > OLD.rank)));
END;

-- A rank moved within a sequence or to another one: the picture (before and after, should the
-- row name another picture) and its neighbours at both places.
CREATE TRIGGER pictures_updated_at_rank_update AFTER UPDATE ON sequence_pictures
WHEN OLD.sequence_id IS NOT NEW.sequence_id OR OLD.rank IS NOT NEW.rank
     OR OLD.picture_id IS NOT NEW.picture_id
BEGIN
    UPDATE pictures
    SET updated_at = max(CAST(unixepoch('subsec') * 1000000 AS INTEGER), updated_at)
    WHERE id IN (OLD.picture_id, NEW.picture_id)
       OR id IN (SELECT picture_id FROM sequence_pictures
                 WHERE sequence_id = OLD.sequence_id
                   AND rank IN ((SELECT max(rank) FROM sequence_pictures
                                 WHERE sequence_id = OLD.sequence_id AND rank < OLD.rank),
                                (SELECT min(rank) FROM sequence_pictures
                                 WHERE sequence_id = OLD.sequence_id AND rank > OLD.rank)))
       OR id IN (SELECT picture_id FROM sequence_pictures
                 WHERE sequence_id = NEW.sequence_id
                   AND rank IN ((SELECT max(rank) FROM sequence_pictures
                                 WHERE sequence_id = NEW.sequence_id AND rank < NEW.rank),
                                (SELECT min(rank) FROM sequence_pictures
                                 WHERE sequence_id = NEW.sequence_id AND rank > NEW.rank)));
END;
