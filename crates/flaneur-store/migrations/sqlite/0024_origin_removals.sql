-- The tombstone of a harvested collection its origin removed (deleted or hid) keeps when that
-- happened there, or the origin's last `updated` known before it: a relay that has not heard of
-- the removal, or a catalog harvesting this one back, still lists the collection, and its copy
-- is taken again only when it changed at the origin after this. Other tombstones leave it
-- empty: a peer removed here, or a relay dropping a collection, says nothing of its origin.
ALTER TABLE sequences ADD COLUMN origin_removed_at INTEGER;
