-- Browser logins: the requests sent to the login provider and not yet answered, and the
-- sessions of logged-in browsers. Only hashes of the secrets the browser holds are kept, so
-- that a copy of the catalog logs nobody in.

CREATE TABLE login_requests (
    -- SHA-256 of the `state` given to the provider, hex.
    state_hash text PRIMARY KEY,
    pkce_verifier text NOT NULL,
    nonce text NOT NULL,
    -- The page of this instance to show once logged in.
    next_url text,
    redirect_url text NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the session cookie's value, hex.
    id_hash text PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    -- The provider's ID token, sent back as a hint when the browser logs out.
    id_token text,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
