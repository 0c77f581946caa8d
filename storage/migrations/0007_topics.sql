-- Telegram forum topics the bridge has seen: their names (from forum_topic_created /
-- forum_topic_edited service messages) label lines of whole-group pairs on IRC, and whether
-- the group closed them. Kept across restarts: Telegram never tells a topic's name again.
CREATE TABLE telegram_topics (
    chat       TEXT NOT NULL,      -- the group's chat id, as text
    topic      INTEGER NOT NULL,   -- message_thread_id (1 = General)
    name       TEXT,               -- NULL until a service message told it
    closed     INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,
    PRIMARY KEY (chat, topic)
);
