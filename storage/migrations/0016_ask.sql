-- /askme and /ask (issue 23): who takes questions on their interests, and the questions.
--
-- members.askme is the member's choice, off by default (storage/askme.py); the directory's
-- card reads it too. Changing it is a members update, so the directory's version moves.
ALTER TABLE members ADD COLUMN askme INTEGER NOT NULL DEFAULT 0 CHECK (askme IN (0, 1));
CREATE INDEX members_askme ON members (id) WHERE askme = 1;

-- When an identity was last seen active (spoke, acted, joined, ran a command), written at
-- most every few minutes (bridge/asking.py): /ask asks the most recently active first, on
-- the network where they were last active.
CREATE TABLE identity_activity (
    identity_id INTEGER PRIMARY KEY REFERENCES identities (id) ON DELETE CASCADE,
    seen_at     REAL    NOT NULL
);

-- Each /ask made, for roster.asks_per_day. asker is "member:<id>" for a member (every
-- linked identity counts as one person), else bridge.identity.limit_key as "network:key".
-- Rows older than a day are pruned at each ask.
CREATE TABLE asks_made (
    asker    TEXT NOT NULL,
    asked_at REAL NOT NULL
);
CREATE INDEX asks_made_asker ON asks_made (asker, asked_at);

-- Each question a member was sent or will be, for roster.asks_received_per_day.
CREATE TABLE asks_received (
    member_id   INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    received_at REAL    NOT NULL
);
CREATE INDEX asks_received_member ON asks_received (member_id, received_at);

-- Questions for IRC members who were on no bridged channel when asked: delivered when next
-- seen joining or speaking on one within roster.ask_ttl_days, dropped after that. They go
-- with the recipient's identity (ON DELETE CASCADE) and with the asking member; /leave
-- of a non-member asker deletes theirs by asker.
CREATE TABLE pending_asks (
    id           INTEGER PRIMARY KEY,
    identity_id  INTEGER NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    asker        TEXT    NOT NULL,
    asker_member INTEGER REFERENCES members (id) ON DELETE CASCADE,
    body         TEXT    NOT NULL,      -- the private message as it will be sent
    asked_at     REAL    NOT NULL
);
CREATE INDEX pending_asks_identity ON pending_asks (identity_id);
CREATE INDEX pending_asks_asker ON pending_asks (asker);
CREATE INDEX pending_asks_asker_member ON pending_asks (asker_member);
CREATE INDEX pending_asks_age ON pending_asks (asked_at);

-- Totals since the database was made, for /metrics and `tgirc-bridge status`.
CREATE TABLE ask_counts (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO ask_counts (name, value) VALUES
    ('asks', 0), ('notified_now', 0), ('queued', 0), ('notified_later', 0), ('expired', 0);
