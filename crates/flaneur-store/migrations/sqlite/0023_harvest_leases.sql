-- One harvest pass per peer at a time. Several processes may share a catalog (servers, and
-- `flaneur harvest` beside them); a pass first claims its peer by writing its own id and when
-- its lease runs out, and only while no other pass holds a lease not yet run out. The pass
-- renews the lease as it saves its progress and clears it when it ends; a process that dies
-- leaves a lease that runs out on its own.
ALTER TABLE peers ADD COLUMN lease_holder TEXT;
ALTER TABLE peers ADD COLUMN leased_until INTEGER;

-- A paused peer has no next attempt: the one kept from before its pause was shown as if a
-- harvest were planned.
UPDATE peers SET next_attempt_at = NULL WHERE is_paused != 0;
