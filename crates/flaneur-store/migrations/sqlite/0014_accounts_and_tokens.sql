-- Accounts that log in and act through API tokens: a role, an identity at a login provider,
-- upload preferences, the terms of service, and a deletion mark (an account's pictures stay
-- its own after it is gone, so its row stays too).
ALTER TABLE accounts ADD COLUMN role TEXT NOT NULL DEFAULT 'user'
    CHECK (role IN ('user', 'admin'));
UPDATE accounts SET role = 'admin' WHERE is_default = 1;
ALTER TABLE accounts ADD COLUMN oauth_provider TEXT;
ALTER TABLE accounts ADD COLUMN oauth_id TEXT;
CREATE UNIQUE INDEX accounts_oauth ON accounts(oauth_provider, oauth_id);
ALTER TABLE accounts ADD COLUMN default_visibility TEXT;
ALTER TABLE accounts ADD COLUMN collaborative_metadata INTEGER;
ALTER TABLE accounts ADD COLUMN tos_accepted_at INTEGER;
ALTER TABLE accounts ADD COLUMN deleted_at INTEGER;

-- API tokens. The secret value is never stored: only its SHA-256, which the bearer value of a
-- request is looked up by. A token without an account waits to be claimed.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    account_id TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    description TEXT NOT NULL,
    generated_at INTEGER NOT NULL,
    last_used_at INTEGER,
    secret_sha256 TEXT NOT NULL UNIQUE
);
CREATE INDEX tokens_account ON tokens(account_id, generated_at);

-- Secrets of the instance made at first use, shared by every process of the catalog (the key
-- signing token values).
CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
