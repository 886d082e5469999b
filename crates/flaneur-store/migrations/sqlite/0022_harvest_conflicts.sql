-- The collections a peer lists that are not held from it because their id is held here by
-- local data or by an unrelated peer: one row each, written when the harvest meets the
-- conflict and deleted when the collection is applied, skipped as a relayed copy or removed,
-- so that each peer's count of conflicts stays true without scanning its listing again.
CREATE TABLE harvest_conflicts (
    peer_id TEXT NOT NULL REFERENCES peers(id),
    sequence_id TEXT NOT NULL,
    PRIMARY KEY (peer_id, sequence_id)
);
