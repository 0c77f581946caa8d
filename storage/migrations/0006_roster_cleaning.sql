-- Audit log of moderators cleaning the roster (/remove, /untag, tgirc-bridge roster remove
-- and untag): who, what, when, how much. Like exports, it keeps no member's data: only the
-- member number (the export's member_id) or the tag.
CREATE TABLE roster_cleaning (
    id         INTEGER PRIMARY KEY,
    actor      TEXT    NOT NULL,    -- "telegram:123", "irc:account:Name", "cli:<login>"
    action     TEXT    NOT NULL CHECK (action IN ('remove', 'untag')),
    target     TEXT    NOT NULL,    -- "member 12", or the tag
    affected   INTEGER NOT NULL,    -- identities removed with the member, or members untagged
    done_at    REAL    NOT NULL
);

-- New unverified IRC identities of the last hour, counted per host before another joins
-- (roster.unverified_per_host_per_hour): floods of clones cannot fill the roster.
CREATE INDEX identities_unverified_created ON identities (created_at) WHERE verified = 0;
