-- Pages administrators write, such as the terms of service: one HTML text per page and
-- language. `change_published_at` is when a change of the page was last announced, which
-- accounts that read the page then have to read again; saving a text announces nothing.
CREATE TABLE pages (
    name TEXT NOT NULL,
    lang TEXT NOT NULL,
    content TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    change_published_at INTEGER,
    PRIMARY KEY (name, lang)
);

-- When the account last read the terms of service, to tell whether it read their latest
-- announced change.
ALTER TABLE accounts ADD COLUMN tos_latest_change_read_at INTEGER;
