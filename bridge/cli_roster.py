"""tgirc-bridge roster remove | untag: the moderators' cleaning, for whoever has the server.

The same store calls as /remove and /untag, recorded the same way (actor "cli:<login>"), so
a roster can be cleaned while the bridge runs or while it is down.
"""

from __future__ import annotations

import sys

from handlers.roster_commands import card
from storage.roster_store import RosterStore
from storage.tags import TagError, normalise_tag


async def remove_member(roster: RosterStore, query: str, actor: str) -> int:
    """Remove the one member query names; several or none: say so and change nothing (1)."""
    found = await roster.find_for_removal(query)
    if not found:
        print(f"error: no member is {query!r} (#number, name, @username or nick)", file=sys.stderr)
        return 1
    if len(found) > 1:
        print(f"error: {len(found)} members match {query!r}; name one by number:", file=sys.stderr)
        for member in found:
            print(f"  #{member.id} {card(member)[0]}", file=sys.stderr)
        return 1
    removed = await roster.remove_member(found[0].id, actor)
    if removed is None:
        print(f"error: member #{found[0].id} was removed meanwhile", file=sys.stderr)
        return 1
    print(
        f"removed member #{removed.id} ({removed.display_name}): {len(removed.identities)} "
        f"identities, {len(removed.interests)} interests"
    )
    return 0


async def remove_tag(roster: RosterStore, raw: str, actor: str) -> int:
    """Take the tag from every member; a text that is no tag is an error (1)."""
    try:
        tag = normalise_tag(raw)
    except TagError as exc:
        print(f"error: {raw!r} is not a tag: {exc}", file=sys.stderr)
        return 1
    count = await roster.remove_tag(tag, actor)
    print(f"removed {tag!r} from {count} members" if count else f"no member lists {tag!r}")
    return 0
