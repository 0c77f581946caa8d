-- Inputs that made the bridge fail (a poison Telegram update, an IRC line that crashed its
-- handler): kept for a person to look at, counted by `status`, never retried automatically.
CREATE TABLE set_aside (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    network    TEXT NOT NULL,   -- telegram | irc
    reference  TEXT NOT NULL,   -- the update id, or "line" for an IRC line
    raw        TEXT NOT NULL,   -- the update's JSON or the IRC line, as received
    error      TEXT NOT NULL,   -- the exception, one line
    created_at REAL NOT NULL
);
