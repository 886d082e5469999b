-- Excluded areas: where pictures are refused, for every upload (account_id NULL) or for the
-- uploads of one account. Polygons are kept as GeoJSON MultiPolygon coordinates, tested in the
-- application as on SQLite so that both catalogs give the same answer; the bounding box
-- columns let a point test read only the areas whose box holds the point.

CREATE TABLE excluded_areas (
    id uuid PRIMARY KEY,
    label text,
    is_public boolean NOT NULL,
    account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
    -- An allowed area of an inverted general set: pictures are refused outside of all of them.
    is_allowed boolean NOT NULL DEFAULT false CHECK (NOT is_allowed OR account_id IS NULL),
    polygons text NOT NULL,
    min_lon double precision NOT NULL,
    min_lat double precision NOT NULL,
    max_lon double precision NOT NULL,
    max_lat double precision NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX excluded_areas_by_account ON excluded_areas (account_id, min_lon, max_lon);
CREATE INDEX excluded_areas_by_box ON excluded_areas (min_lon, max_lon, min_lat, max_lat);
