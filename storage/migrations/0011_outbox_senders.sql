-- A fair share per sender (issue 19): within one destination, senders take turns.
--
-- sender: who the message is from, the key the turns and the drops go by: "telegram:<user
-- id>", "irc:account:<name>" or "irc:mask:<nick!user@host>" for a relayed message,
-- "bridge" for the bridge's own answers and notices; '' for rows queued before this
-- migration (they take their turns as one sender, in their old order).
-- sender_name: what the ignore rules also match, kept for the check at start: the IRC
-- nick!user@host, or the Telegram @username (without the @).
-- turn: the sender's place in line. Each row gets the destination's next number when it is
-- stored, and a sender's first waiting row gets it again whenever one of theirs went out
-- or was dropped; the heads wait in the order of their numbers (storage/outbox_store.py).
ALTER TABLE outbox ADD COLUMN sender TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN sender_name TEXT;
ALTER TABLE outbox ADD COLUMN turn INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET turn = id;
CREATE INDEX outbox_sender ON outbox (network, chat, sender, id);
CREATE INDEX outbox_turn ON outbox (network, chat, turn);
