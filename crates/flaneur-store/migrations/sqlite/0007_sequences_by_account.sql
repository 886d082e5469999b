-- One account's sequences, newest or oldest first, without walking everyone else's: the
-- listing of a user's collection and feed pages through this index.
CREATE INDEX sequences_account_created ON sequences(account_id, created_at, id);
