-- The pictures' space index, kept by triggers like the map's tables: a picture moved by any
-- write moves in the index too, and no write path can leave its point behind.

CREATE TRIGGER pictures_rtree_insert AFTER INSERT ON pictures
BEGIN
    INSERT INTO pictures_rtree (id, min_lon, max_lon, min_lat, max_lat)
    VALUES (NEW.rowid, NEW.lon, NEW.lon, NEW.lat, NEW.lat);
END;

CREATE TRIGGER pictures_rtree_move AFTER UPDATE OF lon, lat ON pictures
BEGIN
    UPDATE pictures_rtree
    SET min_lon = NEW.lon, max_lon = NEW.lon, min_lat = NEW.lat, max_lat = NEW.lat
    WHERE id = NEW.rowid;
END;

CREATE TRIGGER pictures_rtree_delete AFTER DELETE ON pictures
BEGIN
    DELETE FROM pictures_rtree WHERE id = OLD.rowid;
END;

-- Points of pictures moved before, put back where their pictures are.
DELETE FROM pictures_rtree;
INSERT INTO pictures_rtree (id, min_lon, max_lon, min_lat, max_lat)
SELECT rowid, lon, lon, lat, lat FROM pictures;
