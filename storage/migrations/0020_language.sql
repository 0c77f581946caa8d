-- Languages (issue 26): the language a person chose with /language. A roster member's
-- choice is kept with the member (and goes with them); anyone else's in language_choice,
-- by "telegram:<user id>" (kept), or by their IRC identity key ("account:<name>" or
-- "mask:<nick!user@host>"), forgotten 30 days after it was made (storage/languages.py).
ALTER TABLE members ADD COLUMN language TEXT;

CREATE TABLE language_choice (
    person    TEXT NOT NULL PRIMARY KEY,
    language  TEXT NOT NULL,
    chosen_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX language_choice_age ON language_choice (chosen_at);
