-- Accounts that log in and act through API tokens: a role, an identity at a login provider,
-- upload preferences, the terms of service, and a deletion mark (an account's pictures stay
-- its own after it is gone, so its row stays too).
ALTER TABLE accounts
    ADD COLUMN role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    ADD COLUMN oauth_provider text,
    ADD COLUMN oauth_id text,
    ADD COLUMN default_visibility text,
    ADD COLUMN collaborative_metadata boolean,
    ADD COLUMN tos_accepted_at timestamptz,
    ADD COLUMN deleted_at timestamptz;
UPDATE accounts SET role = 'admin' WHERE is_default;
CREATE UNIQUE INDEX accounts_oauth ON accounts (oauth_provider, oauth_id);

-- API tokens. The secret value is never stored: only its SHA-256, which the bearer value of a
-- request is looked up by. A token without an account waits to be claimed.
CREATE TABLE tokens (
    id uuid PRIMARY KEY,
    account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
    description text NOT NULL,
    generated_at timestamptz NOT NULL,
    last_used_at timestamptz,
    secret_sha256 text NOT NULL UNIQUE
);
CREATE INDEX tokens_account ON tokens (account_id, generated_at);

-- Secrets of the instance made at first use, shared by every process of the catalog (the key
-- signing token values).
CREATE TABLE instance_secrets (
    name text PRIMARY KEY,
    value text NOT NULL
);
