-- Browser logins: the requests sent to the login provider and not yet answered, and the
-- sessions of logged-in browsers. Only hashes of the secrets the browser holds are kept, so
-- that a copy of the catalog logs nobody in.

CREATE TABLE login_requests (
    -- SHA-256 of the `state` given to the provider, hex.
    state_hash TEXT PRIMARY KEY,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    -- The page of this instance to show once logged in.
    next_url TEXT,
    redirect_url TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the session cookie's value, hex.
    id_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    -- The provider's ID token, sent back as a hint when the browser logs out.
    id_token TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
