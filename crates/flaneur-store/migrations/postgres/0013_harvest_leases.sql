-- One harvest pass per peer at a time. Several processes share this catalog (servers, and
-- `flaneur harvest` beside them); a pass first claims its peer by writing its own id and when
-- its lease runs out, by the database's clock, and only while no other pass holds a lease not
-- yet run out. The pass renews the lease as it saves its progress and clears it when it ends;
-- a process that dies leaves a lease that runs out on its own.
ALTER TABLE peers ADD COLUMN lease_holder uuid, ADD COLUMN leased_until timestamptz;

-- A paused peer has no next attempt: the one kept from before its pause was shown as if a
-- harvest were planned.
UPDATE peers SET next_attempt_at = NULL WHERE is_paused;
