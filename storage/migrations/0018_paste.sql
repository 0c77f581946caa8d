-- Paste links (bridge/paste.py): the whole text of a Telegram post too long for IRC, served
-- at {public_url}/p/<token> until it expires, then pruned. One row per relayed message and
-- channel (source_key), so a replayed update finds its paste instead of making another.
CREATE TABLE paste (
    id         INTEGER PRIMARY KEY,
    source_key TEXT NOT NULL UNIQUE,        -- "<message source id>>irc:<channel>"
    body       TEXT NOT NULL,               -- the message's text, exactly as written
    created_at REAL NOT NULL,
    expires_at INTEGER NOT NULL             -- unix seconds, the same as the link's
);
CREATE INDEX paste_expiry ON paste (expires_at);
