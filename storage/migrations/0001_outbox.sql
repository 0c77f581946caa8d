-- Durable relay queue: a message is written here before its source is acknowledged
-- and removed only when the destination confirmed it.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    network     TEXT    NOT NULL,           -- destination network: telegram | irc
    chat        TEXT    NOT NULL,           -- destination chat id / IRC target
    dedup_key   TEXT    NOT NULL UNIQUE,    -- source message id + destination; re-delivery is ignored
    replace_key TEXT,                       -- a newer edit replaces a still-waiting older one
    kind        TEXT    NOT NULL,           -- relay | reply | notice
    payload     TEXT    NOT NULL,           -- JSON: rendered lines (IRC) or HTML (Telegram)
    created_at  REAL    NOT NULL,
    not_before  REAL    NOT NULL,
    progress    INTEGER NOT NULL DEFAULT 0, -- IRC: lines of payload already written
    attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_destination ON outbox (network, chat, id);
CREATE INDEX outbox_replace ON outbox (replace_key) WHERE replace_key IS NOT NULL;

-- Delivered keys, so a source re-delivered after a crash is not posted twice.
CREATE TABLE delivered (
    dedup_key    TEXT PRIMARY KEY,
    delivered_at REAL NOT NULL
) WITHOUT ROWID;

-- Messages the bot posted, to show replies to them on the other side with their author.
CREATE TABLE message_map (
    network     TEXT NOT NULL,
    chat        TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    author_name TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (network, chat, message_id)
) WITHOUT ROWID;

-- Small durable settings such as the Telegram update offset.
CREATE TABLE state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
