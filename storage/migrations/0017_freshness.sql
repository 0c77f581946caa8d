-- A roster that stays fresh (issue 23, item 3): a member whose profile was neither confirmed
-- nor changed for roster.confirm_after_days gets one private nudge (bridge/freshness.py);
-- one who does not confirm within roster.confirm_grace_days is stale: out of the web
-- directory, the digest and /ask until they confirm, but kept, and still found by /whois.
--
-- confirmed_at: the last /interests (alone: shown and confirmed), interest change or
-- /listed; NULL for a member who did none of these since joining (joined_at counts).
-- nudged_at: when the nudge went out since then (NULL: not nudged); a confirmation clears
-- it, so one member gets one nudge per lapse, never two in a grace period.
-- stale: set by the freshness task once the grace period is over, cleared by a confirmation.
ALTER TABLE members ADD COLUMN confirmed_at REAL;
ALTER TABLE members ADD COLUMN nudged_at REAL;
ALTER TABLE members ADD COLUMN stale INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1));
UPDATE members SET confirmed_at = coalesce(active_at, joined_at);
CREATE INDEX members_unconfirmed ON members (coalesce(confirmed_at, joined_at))
    WHERE nudged_at IS NULL;
CREATE INDEX members_nudged ON members (nudged_at) WHERE nudged_at IS NOT NULL AND stale = 0;

-- The directory shows a member who is listed and not stale: the counts the triggers of 0009
-- keep (listed_tag_counts, directory_state.listed) now follow (listed = 1 AND stale = 0), so
-- a member lapsing or confirming leaves or enters every count as /listed does.
DROP TRIGGER directory_member_insert;
CREATE TRIGGER directory_member_insert AFTER INSERT ON members BEGIN
    UPDATE members SET active_at = NEW.joined_at WHERE id = NEW.id AND active_at IS NULL;
    UPDATE directory_state SET version = version + 1,
        listed = listed + (NEW.listed = 1 AND NEW.stale = 0);
END;
DROP TRIGGER directory_member_update;
CREATE TRIGGER directory_member_update AFTER UPDATE ON members BEGIN
    UPDATE directory_state SET version = version + 1,
        listed = listed + (NEW.listed = 1 AND NEW.stale = 0) - (OLD.listed = 1 AND OLD.stale = 0);
END;
DROP TRIGGER directory_member_listed;
CREATE TRIGGER directory_member_listed AFTER UPDATE OF listed, stale ON members
WHEN (NEW.listed = 1 AND NEW.stale = 0) AND NOT (OLD.listed = 1 AND OLD.stale = 0) BEGIN
    INSERT INTO listed_tag_counts (tag, members)
        SELECT tag, 1 FROM interests WHERE member_id = NEW.id
        ON CONFLICT (tag) DO UPDATE SET members = members + 1;
END;
DROP TRIGGER directory_member_unlisted;
CREATE TRIGGER directory_member_unlisted AFTER UPDATE OF listed, stale ON members
WHEN NOT (NEW.listed = 1 AND NEW.stale = 0) AND (OLD.listed = 1 AND OLD.stale = 0) BEGIN
    UPDATE listed_tag_counts SET members = members - 1
        WHERE tag IN (SELECT tag FROM interests WHERE member_id = NEW.id);
    DELETE FROM listed_tag_counts WHERE members <= 0;
END;
DROP TRIGGER directory_member_delete;
CREATE TRIGGER directory_member_delete BEFORE DELETE ON members BEGIN
    UPDATE listed_tag_counts SET members = members - 1
        WHERE OLD.listed = 1 AND OLD.stale = 0
        AND tag IN (SELECT tag FROM interests WHERE member_id = OLD.id);
    DELETE FROM listed_tag_counts WHERE OLD.listed = 1 AND OLD.stale = 0 AND members <= 0;
    UPDATE directory_state SET version = version + 1,
        listed = listed - (OLD.listed = 1 AND OLD.stale = 0);
END;
DROP TRIGGER directory_interest_insert;
CREATE TRIGGER directory_interest_insert AFTER INSERT ON interests BEGIN
    INSERT INTO listed_tag_counts (tag, members)
        SELECT NEW.tag, 1 FROM members WHERE id = NEW.member_id AND listed = 1 AND stale = 0
        ON CONFLICT (tag) DO UPDATE SET members = members + 1;
    UPDATE directory_state SET version = version + 1;
END;
DROP TRIGGER directory_interest_delete;
CREATE TRIGGER directory_interest_delete AFTER DELETE ON interests BEGIN
    UPDATE listed_tag_counts SET members = members - 1 WHERE tag = OLD.tag
        AND EXISTS (SELECT 1 FROM members WHERE id = OLD.member_id AND listed = 1 AND stale = 0);
    DELETE FROM listed_tag_counts WHERE tag = OLD.tag AND members <= 0;
    UPDATE directory_state SET version = version + 1;
END;
DROP TRIGGER directory_interest_update;
CREATE TRIGGER directory_interest_update AFTER UPDATE OF tag ON interests BEGIN
    UPDATE listed_tag_counts SET members = members - 1 WHERE tag = OLD.tag
        AND EXISTS (SELECT 1 FROM members WHERE id = OLD.member_id AND listed = 1 AND stale = 0);
    DELETE FROM listed_tag_counts WHERE tag = OLD.tag AND members <= 0;
    INSERT INTO listed_tag_counts (tag, members)
        SELECT NEW.tag, 1 FROM members WHERE id = NEW.member_id AND listed = 1 AND stale = 0
        ON CONFLICT (tag) DO UPDATE SET members = members + 1;
    UPDATE directory_state SET version = version + 1;
END;

-- Totals since the database was made, for /metrics and `tgirc-bridge status` (issue 23,
-- item 5), kept here so a restart or the status CLI reads what the task did: nudges sent
-- per network, members who lapsed, and nudges that found no way to the member.
CREATE TABLE freshness_counts (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO freshness_counts (name, value) VALUES
    ('nudged_telegram', 0), ('nudged_irc', 0), ('lapsed', 0), ('unreachable', 0);
