-- Reactions (issue 24, item 4): a Telegram reaction names only a message id, so the bridge
-- keeps, for each Telegram message it relayed to IRC, who wrote it, its first words and the
-- chat key it was written in (its forum topic), to say on IRC whose message it was and send
-- the reaction to that topic's channel. Messages the bridge posted itself are in message_map.
-- One row per message, the quote cut to 100 characters; rows older than 7 days are pruned,
-- like message_map's (storage/reactions.py).
CREATE TABLE reacted_message (
    group_id    TEXT NOT NULL,   -- the Telegram group's chat id
    message_id  TEXT NOT NULL,
    chat        TEXT NOT NULL,   -- its chat key: the group, or "<group>/<topic>"
    author_name TEXT NOT NULL,
    quote       TEXT NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (group_id, message_id)
) WITHOUT ROWID;
CREATE INDEX reacted_message_age ON reacted_message (created_at);
