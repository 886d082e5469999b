-- The embedded catalog: accounts, upload sets, files, pictures, sequences and the job queue.
-- Instants are INTEGER microseconds since the Unix epoch (UTC), ids are hyphenated UUID text.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE upload_sets (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    title TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    completed INTEGER NOT NULL DEFAULT 0,
    dispatched INTEGER NOT NULL DEFAULT 0,
    -- The request as the client made it (NewUploadSet as JSON): dispatch options, metadata,
    -- semantics, visibility and user agent.
    spec TEXT NOT NULL
);

CREATE TABLE pictures (
    id TEXT PRIMARY KEY,
    upload_set_id TEXT REFERENCES upload_sets(id) ON DELETE SET NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    status TEXT NOT NULL,
    visibility TEXT NOT NULL,
    captured_at INTEGER NOT NULL,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    heading_deg REAL,
    heading_computed INTEGER NOT NULL DEFAULT 0,
    projection TEXT NOT NULL,
    content_md5 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    process_error TEXT,
    -- NewPicture as JSON: everything read from the file that is not a column above.
    doc TEXT NOT NULL
);
CREATE INDEX pictures_md5 ON pictures(content_md5);
CREATE INDEX pictures_upload_set ON pictures(upload_set_id);
CREATE INDEX pictures_updated ON pictures(updated_at DESC, id);
CREATE INDEX pictures_captured ON pictures(captured_at);

-- Space index of pictures; `id` is the rowid of the picture.
CREATE VIRTUAL TABLE pictures_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat);

CREATE TABLE files (
    upload_set_id TEXT NOT NULL REFERENCES upload_sets(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    size_bytes INTEGER,
    content_md5 TEXT,
    picture_id TEXT,
    inserted_at INTEGER NOT NULL,
    rejection_reason TEXT,
    rejection_message TEXT,
    rejection_details TEXT,
    PRIMARY KEY (upload_set_id, file_name)
);

CREATE TABLE sequences (
    id TEXT PRIMARY KEY,
    upload_set_id TEXT,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    visibility TEXT NOT NULL,
    sorted_by TEXT NOT NULL,
    user_agent TEXT,
    relative_heading_deg REAL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    nb_pictures INTEGER NOT NULL DEFAULT 0,
    min_captured_at INTEGER,
    max_captured_at INTEGER,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL,
    length_km REAL,
    -- 90th percentile of the pictures' position error, in metres.
    gps_accuracy_m REAL
);
CREATE INDEX sequences_created ON sequences(created_at, id);
CREATE INDEX sequences_upload_set ON sequences(upload_set_id);

CREATE TABLE sequence_pictures (
    sequence_id TEXT NOT NULL REFERENCES sequences(id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    picture_id TEXT NOT NULL UNIQUE REFERENCES pictures(id) ON DELETE CASCADE,
    PRIMARY KEY (sequence_id, rank)
);

-- Durable job queue. A job is claimed by setting `lease_until`; a job whose lease ran out
-- (its worker died) is claimed again. At most one pending job per kind and target.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    run_after INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER,
    last_error TEXT,
    -- Set when the job is queued again while a worker holds it: finishing then re-arms it
    -- instead of removing it, so the new request is not lost.
    requeued INTEGER NOT NULL DEFAULT 0,
    UNIQUE (kind, target)
);
CREATE INDEX jobs_ready ON jobs(run_after, id);
CREATE INDEX jobs_kind_ready ON jobs(kind, run_after, id);
