-- Where an IRC member was seen (spoke, acted or joined), so the web directory's card names
-- only channels the member is really in (issue 21): bridged channels only, written once per
-- identity and channel (bridge/seen_channels.py), at most 50 per identity
-- (storage/seen_channels.py). The rows hang off the identity, so /leave, /remove and a
-- moved identity take them along; a new row, or one pruned, is a roster write for the
-- directory's page cache.
CREATE TABLE identity_channels (
    identity_id INTEGER NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    channel     TEXT    NOT NULL,           -- as spelled in [[bridge]] irc_channel
    seen_at     REAL    NOT NULL,           -- when first seen there, unix seconds
    PRIMARY KEY (identity_id, channel)
) WITHOUT ROWID;

CREATE TRIGGER directory_identity_channel_insert AFTER INSERT ON identity_channels BEGIN
    UPDATE directory_state SET version = version + 1;
END;
CREATE TRIGGER directory_identity_channel_delete AFTER DELETE ON identity_channels BEGIN
    UPDATE directory_state SET version = version + 1;
END;
