-- The mailing-list digest (bridge/mail/, issue 22): when the last one was sent, what the list
-- was told of each listed member, and the failures `tgirc-bridge status` shows.
--
-- digest_state holds one row, written when [digest] is first configured: started_at is that
-- moment, last_at the end of the period the last digest covered (started_at before the
-- first), so the next one covers last_at..now and is due at last_at + every_hours, across
-- restarts. failures/failing_since/last_error/next_try_at describe a send that has not
-- succeeded yet (next_try_at: the retry's time, or the next period's after a 5xx).
CREATE TABLE digest_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    started_at    REAL    NOT NULL,
    last_at       REAL    NOT NULL,
    sent          INTEGER NOT NULL DEFAULT 0,
    failures      INTEGER NOT NULL DEFAULT 0,
    failing_since REAL,
    last_error    TEXT    NOT NULL DEFAULT '',
    next_try_at   REAL
);

-- The interests each listed member had when the list last heard of them (a card in a sent
-- digest, or listed already when the digest started): a member absent here is new to the
-- list, one whose interests differ has changed them. Goes with the member (/leave, /remove).
CREATE TABLE digest_told (
    member_id INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    interests TEXT    NOT NULL              -- JSON array of tags, in the member's order
);
