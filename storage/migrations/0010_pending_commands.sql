-- Commands accepted but not yet answered: they run beside the relay, so the source is
-- acknowledged before they finish; a command still here at start-up runs again.
CREATE TABLE pending_command (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    network     TEXT NOT NULL,          -- where it was typed: telegram | irc
    source_id   TEXT NOT NULL,          -- the message's id on its network
    body        TEXT NOT NULL,          -- JSON: who typed what, where (bridge/pending.py)
    created_at  REAL NOT NULL,
    UNIQUE (network, source_id)
);
