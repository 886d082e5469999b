-- Listings of sequences page through any of their orders by keyset, so each order needs an
-- index that both filters and sorts: harvesters ask for `updated >= <last visit>` sorted by
-- `updated`, viewers sort by capture time. The capture expression is written exactly as the
-- listing query writes it, or SQLite would not match the index to it.
CREATE INDEX sequences_updated ON sequences(updated_at, id);
CREATE INDEX sequences_captured ON sequences(coalesce(min_captured_at, 0), id);
