-- Members roster: one member, one identity per network, interests as a normalised tag table.
-- Every per-person row hangs off members with ON DELETE CASCADE, so /leave is one DELETE.
CREATE TABLE members (
    id        INTEGER PRIMARY KEY,
    joined_at REAL    NOT NULL              -- unix seconds, UTC
);

-- How a member is known on a network. Telegram: key = numeric user id (verified).
-- IRC: key = "account:<services account>" (verified) or "mask:<nick!user@host>" (unverified).
CREATE TABLE identities (
    id           INTEGER PRIMARY KEY,
    member_id    INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    network      TEXT    NOT NULL CHECK (network IN ('telegram', 'irc')),
    key          TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    name_fold    TEXT    NOT NULL,          -- casefolded display_name, for case-insensitive search
    handle       TEXT,                      -- Telegram @username (without @) or IRC nick
    handle_fold  TEXT,
    verified     INTEGER NOT NULL CHECK (verified IN (0, 1)),
    created_at   REAL    NOT NULL,
    updated_at   REAL    NOT NULL,
    UNIQUE (network, key)
);
CREATE INDEX identities_member ON identities (member_id);
CREATE INDEX identities_name ON identities (name_fold);
CREATE INDEX identities_handle ON identities (handle_fold) WHERE handle_fold IS NOT NULL;

-- One row per (member, tag). Prefix search is a range scan on interests_tag:
-- tag >= :prefix AND tag < :prefix_successor (no LIKE, so % and _ are plain characters).
CREATE TABLE interests (
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    tag       TEXT    NOT NULL,
    position  INTEGER NOT NULL,             -- the order the member gave
    PRIMARY KEY (member_id, tag)
) WITHOUT ROWID;
CREATE INDEX interests_tag ON interests (tag, member_id);

-- One-time codes for /link, valid a few minutes; removed with their identity.
CREATE TABLE link_codes (
    code        TEXT    PRIMARY KEY,
    identity_id INTEGER NOT NULL UNIQUE REFERENCES identities (id) ON DELETE CASCADE,
    expires_at  REAL    NOT NULL
) WITHOUT ROWID;

-- Audit log of moderators' exports: who, when, how many rows. Not a member's data.
CREATE TABLE exports (
    id          INTEGER PRIMARY KEY,
    actor       TEXT    NOT NULL,           -- e.g. "telegram:123456" or "irc:account:Name"
    exported_at REAL    NOT NULL,
    row_count   INTEGER NOT NULL
);
