-- Besides its conflicts, a peer's relayed copies of collections held from elsewhere are kept
-- too (`is_conflict` false): when the holder lets such a collection go (its peer removed here,
-- or a relay dropping it), the next harvest of that peer fetches its copy rather than waiting
-- for it to change there. Only conflicts are counted as such.
ALTER TABLE harvest_conflicts ADD COLUMN is_conflict boolean NOT NULL DEFAULT true;
