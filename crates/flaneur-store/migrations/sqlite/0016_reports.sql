-- Reports of problems with pictures or sequences. The reported ids are kept without a
-- foreign key: a report outlives the data it was about, for its reviewers.

CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    issue TEXT NOT NULL,
    status TEXT NOT NULL,
    picture_id TEXT,
    sequence_id TEXT,
    reporter_account_id TEXT REFERENCES accounts(id) ON DELETE SET NULL,
    reporter_email TEXT,
    reporter_comments TEXT,
    resolver_account_id TEXT REFERENCES accounts(id) ON DELETE SET NULL,
    resolver_comments TEXT,
    created_at INTEGER NOT NULL,
    closed_at INTEGER,
    CHECK (picture_id IS NOT NULL OR sequence_id IS NOT NULL)
);
CREATE INDEX reports_by_status ON reports (status, created_at);
CREATE INDEX reports_by_picture ON reports (picture_id);
CREATE INDEX reports_by_sequence ON reports (sequence_id);
CREATE INDEX reports_by_reporter ON reports (reporter_account_id);
