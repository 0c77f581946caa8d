-- The members directory (bridge/web/directory.py): only members who said /listed yes.
--
-- members.listed is the member's choice, off by default; members.active_at orders the page
-- (the latest of joining, a name change, an interest change, a listing change). The rest is
-- kept by triggers so the web pages never count or group the whole roster:
-- listed_tag_counts (members listing each tag, listed ones only) and directory_state (how
-- many are listed, and a version that every roster change bumps, so a cached page is
-- dropped the moment someone leaves, unlists or renames).
ALTER TABLE members ADD COLUMN listed INTEGER NOT NULL DEFAULT 0 CHECK (listed IN (0, 1));
ALTER TABLE members ADD COLUMN active_at REAL;
UPDATE members SET active_at = max(joined_at, coalesce(
    (SELECT max(updated_at) FROM identities WHERE member_id = members.id), joined_at));
CREATE INDEX members_listed ON members (active_at DESC, id DESC) WHERE listed = 1;

CREATE TABLE listed_tag_counts (
    tag     TEXT    PRIMARY KEY,
    members INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX listed_tag_counts_size ON listed_tag_counts (members DESC, tag);

CREATE TABLE directory_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    listed  INTEGER NOT NULL
);
INSERT INTO directory_state (id, version, listed) VALUES (1, 0, 0);

-- members
CREATE TRIGGER directory_member_insert AFTER INSERT ON members BEGIN
    UPDATE members SET active_at = NEW.joined_at WHERE id = NEW.id AND active_at IS NULL;
    UPDATE directory_state SET version = version + 1, listed = listed + NEW.listed;
END;
CREATE TRIGGER directory_member_update AFTER UPDATE ON members BEGIN
    UPDATE directory_state SET version = version + 1, listed = listed + NEW.listed - OLD.listed;
END;
CREATE TRIGGER directory_member_listed AFTER UPDATE OF listed ON members
WHEN NEW.listed = 1 AND OLD.listed = 0 BEGIN
    INSERT INTO listed_tag_counts (tag, members)
        SELECT tag, 1 FROM interests WHERE member_id = NEW.id
        ON CONFLICT (tag) DO UPDATE SET members = members + 1;
END;
CREATE TRIGGER directory_member_unlisted AFTER UPDATE OF listed ON members
WHEN NEW.listed = 0 AND OLD.listed = 1 BEGIN
    UPDATE listed_tag_counts SET members = members - 1
        WHERE tag IN (SELECT tag FROM interests WHERE member_id = NEW.id);
    DELETE FROM listed_tag_counts WHERE members <= 0;
END;
-- Before: the cascade deletes the interests after the member row is gone, when their own
-- trigger can no longer see that the member was listed.
CREATE TRIGGER directory_member_delete BEFORE DELETE ON members BEGIN
    UPDATE listed_tag_counts SET members = members - 1
        WHERE OLD.listed = 1 AND tag IN (SELECT tag FROM interests WHERE member_id = OLD.id);
    DELETE FROM listed_tag_counts WHERE OLD.listed = 1 AND members <= 0;
    UPDATE directory_state SET version = version + 1, listed = listed - OLD.listed;
END;

-- interests
CREATE TRIGGER directory_interest_insert AFTER INSERT ON interests BEGIN
    INSERT INTO listed_tag_counts (tag, members)
        SELECT NEW.tag, 1 FROM members WHERE id = NEW.member_id AND listed = 1
        ON CONFLICT (tag) DO UPDATE SET members = members + 1;
    UPDATE directory_state SET version = version + 1;
END;
CREATE TRIGGER directory_interest_delete AFTER DELETE ON interests BEGIN
    UPDATE listed_tag_counts SET members = members - 1 WHERE tag = OLD.tag
        AND EXISTS (SELECT 1 FROM members WHERE id = OLD.member_id AND listed = 1);
    DELETE FROM listed_tag_counts WHERE tag = OLD.tag AND members <= 0;
    UPDATE directory_state SET version = version + 1;
END;
CREATE TRIGGER directory_interest_update AFTER UPDATE OF tag ON interests BEGIN
    UPDATE listed_tag_counts SET members = members - 1 WHERE tag = OLD.tag
        AND EXISTS (SELECT 1 FROM members WHERE id = OLD.member_id AND listed = 1);
    DELETE FROM listed_tag_counts WHERE tag = OLD.tag AND members <= 0;
    INSERT INTO listed_tag_counts (tag, members)
        SELECT NEW.tag, 1 FROM members WHERE id = NEW.member_id AND listed = 1
        ON CONFLICT (tag) DO UPDATE SET members = members + 1;
    UPDATE directory_state SET version = version + 1;
END;

-- identities: a name change is activity; an identity moved by /link into a listed member
-- from one who is not listed makes the merged member unlisted (nothing of an unlisted
-- member may appear), until they say /listed yes again.
CREATE TRIGGER directory_identity_insert AFTER INSERT ON identities BEGIN
    UPDATE members SET active_at = max(coalesce(active_at, 0), NEW.updated_at)
        WHERE id = NEW.member_id;
    UPDATE directory_state SET version = version + 1;
END;
CREATE TRIGGER directory_identity_update AFTER UPDATE ON identities BEGIN
    UPDATE members SET active_at = max(coalesce(active_at, 0), NEW.updated_at)
        WHERE id = NEW.member_id AND NEW.updated_at > OLD.updated_at;
    UPDATE members SET listed = 0 WHERE id = NEW.member_id AND NEW.member_id != OLD.member_id
        AND listed = 1
        AND NOT EXISTS (SELECT 1 FROM members WHERE id = OLD.member_id AND listed = 1);
    UPDATE directory_state SET version = version + 1;
END;
CREATE TRIGGER directory_identity_delete AFTER DELETE ON identities BEGIN
    UPDATE directory_state SET version = version + 1;
END;
