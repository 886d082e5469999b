-- Reports of problems with pictures or sequences. The reported ids are kept without a
-- foreign key: a report outlives the data it was about, for its reviewers.

CREATE TABLE reports (
    id uuid PRIMARY KEY,
    issue text NOT NULL,
    status text NOT NULL,
    picture_id uuid,
    sequence_id uuid,
    reporter_account_id uuid REFERENCES accounts (id) ON DELETE SET NULL,
    reporter_email text,
    reporter_comments text,
    resolver_account_id uuid REFERENCES accounts (id) ON DELETE SET NULL,
    resolver_comments text,
    created_at timestamptz NOT NULL,
    closed_at timestamptz,
    CHECK (picture_id IS NOT NULL OR sequence_id IS NOT NULL)
);
CREATE INDEX reports_by_status ON reports (status, created_at);
CREATE INDEX reports_by_picture ON reports (picture_id);
CREATE INDEX reports_by_sequence ON reports (sequence_id);
CREATE INDEX reports_by_reporter ON reports (reporter_account_id);
