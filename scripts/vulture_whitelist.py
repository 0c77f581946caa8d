"""Names vulture reports as unused that are used, by a library, a protocol or a reader it
cannot see. Each line says who uses it; a name that is really dead is deleted, never added.

Run by ./scripts/test.sh: vulture bridge handlers storage scripts/vulture_whitelist.py
"""

# ruff: noqa: B018, F821
# (vulture reads names, not types: "_." stands for any object with that attribute)

# jaraco irc: the connection builds its line buffer and its protocol from these attributes
_.buffer_class  # bridge/irc/supervisor.py
_.protocol_class  # bridge/irc/supervisor.py

# aiosqlite: read by the connection for every cursor it makes
_.row_factory  # storage/db.py

# prometheus-client: a registered collector's protocol, called at each scrape
_.collect  # bridge/web/metrics.py

# tests/test_compat.py reads the library versions each private use was checked on
CHECKED_ON  # bridge/compat.py

# fields of records the stores return, read by the tests beside the others
_.expires_at  # storage/link_codes.py LinkCode
_.turn  # storage/outbox_store.py Row: filled from the row, read by no code yet (the turns
# are compared in SQL); left to the fair share's owners, who were changing that file

# the set-aside inputs as the tests read them (status counts them; people read the table)
_.recent  # storage/set_aside.py

# storage/freshness.py: whether a member may receive /ask's questions (issue 23, item 2, beside
# the FRESH condition); tests/test_freshness.py reads it
is_fresh

# what the tests observe through (the outbox's owners were changing that file)
_.workers  # bridge/outbox.py Outbox.workers(): the destinations with a worker now

# the [mail] check of `tgirc-bridge doctor` (issue 25) and the digest's tests call it
probe  # bridge/mail/send.py

# bridge/mentions.py: the pure rule over a list of speakers that the store's fast path
# (RecentSpeakers.linked: a substring test per name, then one pattern of the names found) is
# property-tested against in tests/test_mentions.py (issue 24, item 2)
link_mentions
