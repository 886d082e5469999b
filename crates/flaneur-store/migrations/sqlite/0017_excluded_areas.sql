-- Excluded areas: where pictures are refused, for every upload (account_id NULL) or for the
-- uploads of one account. Polygons are kept as GeoJSON MultiPolygon coordinates; the bounding
-- box columns let a point test read only the areas whose box holds the point.

CREATE TABLE excluded_areas (
    id TEXT PRIMARY KEY,
    label TEXT,
    is_public INTEGER NOT NULL,
    account_id TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    -- An allowed area of an inverted general set: pictures are refused outside of all of them.
    is_allowed INTEGER NOT NULL DEFAULT 0 CHECK (is_allowed = 0 OR account_id IS NULL),
    polygons TEXT NOT NULL,
    min_lon REAL NOT NULL,
    min_lat REAL NOT NULL,
    max_lon REAL NOT NULL,
    max_lat REAL NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX excluded_areas_by_account ON excluded_areas (account_id, min_lon, max_lon);
CREATE INDEX excluded_areas_by_box ON excluded_areas (min_lon, max_lon, min_lat, max_lat);
