-- Linking never publishes (issue 21): any identity that /link adds to a listed member, new
-- (storage/link_codes.py inserts it) or moved from another member, listed or not, makes the
-- member unlisted until they say /listed yes again. 0009 unlisted only an identity moved
-- from an unlisted member, so a listed member's new IRC nick showed on /members at once.
-- An identity inserted with a new member needs nothing: members are created unlisted.
DROP TRIGGER directory_identity_insert;
CREATE TRIGGER directory_identity_insert AFTER INSERT ON identities BEGIN
    UPDATE members SET active_at = max(coalesce(active_at, 0), NEW.updated_at)
        WHERE id = NEW.member_id;
    UPDATE members SET listed = 0 WHERE id = NEW.member_id AND listed = 1;
    UPDATE directory_state SET version = version + 1;
END;
DROP TRIGGER directory_identity_update;
CREATE TRIGGER directory_identity_update AFTER UPDATE ON identities BEGIN
    UPDATE members SET active_at = max(coalesce(active_at, 0), NEW.updated_at)
        WHERE id = NEW.member_id AND NEW.updated_at > OLD.updated_at;
    UPDATE members SET listed = 0 WHERE id = NEW.member_id AND NEW.member_id != OLD.member_id
        AND listed = 1;
    UPDATE directory_state SET version = version + 1;
END;
