-- The web face's signing secret for media links (bridge/media_links.py): generated on first
-- start, replaced by `tgirc-bridge rotate-web-secret`, which invalidates every link given out.
CREATE TABLE web_secret (
    id         INTEGER PRIMARY KEY CHECK (id = 1),   -- one row at most
    secret     BLOB NOT NULL,                        -- 32 random bytes
    created_at REAL NOT NULL
);
