-- What `tgirc-bridge status` shows of the running bridge, as columns (storage/status.py):
-- before, strings such as "ready 1733000000" and JSON in the state table, parsed again by
-- the CLI. Written by the bridge every few seconds and when it stops.
CREATE TABLE connection_status (
    network TEXT NOT NULL PRIMARY KEY,  -- irc, telegram
    state   TEXT NOT NULL,              -- ready, connecting, disconnected, stopped, ...
    as_of   REAL NOT NULL               -- when the bridge wrote it, unix seconds
) WITHOUT ROWID;

CREATE TABLE chat_status (
    network  TEXT    NOT NULL,  -- irc: a bridged channel; telegram: a topic that refuses
    chat     TEXT    NOT NULL,
    position INTEGER NOT NULL,  -- the order the bridge gave them in
    state    TEXT    NOT NULL,  -- the channel's state, or why the topic's messages wait
    PRIMARY KEY (network, chat)
) WITHOUT ROWID;

DELETE FROM state WHERE key IN ('connection:irc', 'connection:telegram', 'channels:irc', 'topics:telegram');
