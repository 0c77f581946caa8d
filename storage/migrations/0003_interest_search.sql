-- /whois at 100k members: rank a tag's holders without grouping every one of them.
--
-- interests_tag gains position, so the holders of one tag come off the index already in
-- rank order (the position the member gave the tag, then member id) and LIMIT stops early.
DROP INDEX interests_tag;
CREATE INDEX interests_tag ON interests (tag, position, member_id);

-- shared: the longest common prefix of this tag and the member's next tag in code point
-- order, NULL if none. A member lists two tags starting with P exactly when one of their
-- rows has a shared value starting with P, so members matching a prefix more than once
-- (ranked first, and counted once) are one small range scan away.
-- Written by RosterStore._insert_tags: a member's tags are only ever replaced as a whole.
ALTER TABLE interests ADD COLUMN shared TEXT;
CREATE INDEX interests_shared ON interests (shared) WHERE shared IS NOT NULL;

WITH RECURSIVE k (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 64),
next (member_id, tag, following) AS (
    SELECT member_id, tag, lead(tag) OVER (PARTITION BY member_id ORDER BY tag)
    FROM interests
),
common (member_id, tag, prefix) AS (
    SELECT member_id, tag, substr(tag, 1, max(n))
    FROM next JOIN k ON n <= min(length(tag), length(following))
        AND substr(tag, 1, n) = substr(following, 1, n)
    GROUP BY member_id, tag
)
UPDATE interests SET shared = common.prefix
FROM common WHERE common.member_id = interests.member_id AND common.tag = interests.tag;

-- How many members list each tag, kept by triggers (also on ON DELETE CASCADE), so
-- "and N more", /members and suggestions never count the whole interests table.
CREATE TABLE tag_counts (
    tag     TEXT    PRIMARY KEY,
    members INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO tag_counts (tag, members) SELECT tag, COUNT(*) FROM interests GROUP BY tag;

CREATE TRIGGER tag_counts_insert AFTER INSERT ON interests BEGIN
    INSERT INTO tag_counts (tag, members) VALUES (NEW.tag, 1)
        ON CONFLICT (tag) DO UPDATE SET members = members + 1;
END;
CREATE TRIGGER tag_counts_delete AFTER DELETE ON interests BEGIN
    UPDATE tag_counts SET members = members - 1 WHERE tag = OLD.tag;
    DELETE FROM tag_counts WHERE tag = OLD.tag AND members <= 0;
END;
CREATE TRIGGER tag_counts_update AFTER UPDATE OF tag ON interests BEGIN
    UPDATE tag_counts SET members = members - 1 WHERE tag = OLD.tag;
    DELETE FROM tag_counts WHERE tag = OLD.tag AND members <= 0;
    INSERT INTO tag_counts (tag, members) VALUES (NEW.tag, 1)
        ON CONFLICT (tag) DO UPDATE SET members = members + 1;
END;
