"""Mentions that notify across the bridge, both ways.

IRC → Telegram: an IRC line naming a Telegram member by the name the bridge shows on IRC
("Carol: see the patch", or Carol as a whole word anywhere) reaches Telegram with a real
mention, her @username or a ``tg://user?id=`` link, so Telegram notifies her. Only members
who spoke in the pair's group within ``relay.mention_window_hours`` are candidates
(``RecentSpeakers``); a name two of them share, text inside code and text inside a URL are
never linked; at most ``MAX_LINKED`` people per message.

The speakers are kept in memory (bounded ``Lru``s), not in the database: after a restart a
member is mentionable again as soon as she speaks, and no database write is added to each
Telegram message's path (the relay's idle latency is measured in tenths of a millisecond).

Telegram → IRC: the nick of a reply to an IRC user's line and an ``@nick`` the sender typed
are meant, and go to IRC unbroken; ``shield()`` is the anti-highlight for the rest of a
reply's prefix (the quote, a Telegram author's name), which nobody meant to ping.
"""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Final

from bridge.casemap import irc_casefold
from bridge.config_model import AntiHighlight
from bridge.display_names import clean_name
from bridge.lru import Lru
from bridge.model import Author, Network, Span, SpanKind, split_telegram_chat
from bridge.render.irc_format import anti_highlight

MAX_LINKED: Final = 5
"""People linked in one message at most: a line naming the whole group is not a roll call."""
SPEAKERS_PER_GROUP: Final = 256
"""Recent speakers remembered per bridged group; the least recently heard go first."""
GROUPS_MAX: Final = 1_000
"""Groups whose speakers are remembered (only bridged groups are noted at all)."""
_USERNAME: Final = re.compile(r"[A-Za-z0-9_]{4,32}")
"""A Telegram @username as Telegram allows it; anything else is linked by id instead."""
_UNLINKABLE: Final = re.compile(r"`[^`]*`|\b[a-z][a-z0-9+.-]*://\S*|\bwww\.\S+", re.IGNORECASE)
"""Backticked code (as people write it on IRC) and URLs: a mention inside either is text."""
_SPACES: Final = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Speaker:
    """A Telegram member as an IRC user may name her: the name the bridge shows on IRC."""

    user_id: str
    shown: str
    """clean_name(display name): what the relay puts in ``<name>`` on IRC."""
    username: str | None = None
    at: float = 0.0


class _Group:
    """One group's speakers, and which of them go by each name (kept as they speak, so a
    line is matched against the names, not against every speaker)."""

    __slots__ = ("by_key", "speakers")

    def __init__(self) -> None:
        self.speakers: Lru[str, Speaker] = Lru(SPEAKERS_PER_GROUP)
        self.by_key: dict[str, set[str]] = {}
        """Name key → user ids; may hold ids the Lru has dropped, checked when read."""

    def note(self, speaker: Speaker) -> None:
        old = self.speakers.get(speaker.user_id)
        self.speakers[speaker.user_id] = speaker
        if old is not None and old.shown == speaker.shown:
            return  # the hot path: the same member speaking again
        key = _name(speaker.shown)[1]
        if key:
            self.by_key.setdefault(key, set()).add(speaker.user_id)
        if sum(len(ids) for ids in self.by_key.values()) > 2 * SPEAKERS_PER_GROUP:
            self.by_key = {}  # renamed and forgotten members piled up: rebuild
            for s in self.speakers.values():
                if k := _name(s.shown)[1]:
                    self.by_key.setdefault(k, set()).add(s.user_id)

    def named(self, folded: str, cutoff: float) -> list[tuple[str, Speaker]]:
        """(name, speaker) for each name in folded (a case-folded line) that exactly one
        member who spoke since cutoff goes by."""
        found = []
        for key, ids in self.by_key.items():
            if key not in folded:
                continue
            live = [
                s
                for uid in ids
                if (s := self.speakers.get(uid)) is not None
                and s.at >= cutoff
                and _name(s.shown)[1] == key
            ]
            if len(live) == 1:
                found.append((_name(live[0].shown)[0], live[0]))
        return found


class RecentSpeakers:
    """Who spoke in each bridged Telegram group, and when: whom an IRC line may mention."""

    def __init__(
        self,
        window: float,
        bridged: Callable[[str], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.window = window
        """Seconds a member stays mentionable after she spoke; 0: no mention is linked."""
        self.bridged = bridged
        self.clock = clock
        self._groups: Lru[str, _Group] = Lru(GROUPS_MAX)

    def note(self, chat: str, author: Author) -> None:
        """author spoke in Telegram chat (a group or one topic of it) just now."""
        if (
            self.window <= 0
            or author.network is not Network.TELEGRAM
            or author.is_bot
            or author.posted_as is not None  # an anonymous admin or a channel: nobody to ping
        ):
            return
        group = split_telegram_chat(chat)[0]
        if not self.bridged(group):
            return
        speakers = self._groups.get(group)
        if speakers is None:
            speakers = _Group()
        self._groups[group] = speakers
        shown = clean_name(author.display_name)
        speakers.note(Speaker(author.user_id, shown, author.nick, self.clock()))

    def recent(self, chat: str) -> list[Speaker]:
        """The members who spoke in chat's group within the window, oldest first."""
        group = self._groups.get(split_telegram_chat(chat)[0])
        if group is None or self.window <= 0:
            return []
        cutoff = self.clock() - self.window
        return [s for s in group.speakers.values() if s.at >= cutoff]

    def linked(self, chat: str, text: str, spans: Sequence[Span]) -> tuple[str, tuple[Span, ...]]:
        """An IRC line's text and spans with its mentions of chat's recent speakers linked."""
        group = self._groups.get(split_telegram_chat(chat)[0])
        if group is None or self.window <= 0 or not text:
            return text, tuple(spans)
        vis = visible(text)
        named = group.named(_folded(vis), self.clock() - self.window)
        return _link(text, vis, spans, named)


def visible(text: str) -> str:
    """text without its invisible format characters (the anti-highlight's zero-width space,
    a joiner, a bidi control): what a reader sees and types back."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


@functools.lru_cache(maxsize=4096)
def _name(shown: str) -> tuple[str, str]:
    """(name as typed back: visible, spaces collapsed; its case-folded key, "" when it has
    no letter or digit and so names nobody). Cached: the same few names come every line."""
    name = _SPACES.sub(" ", visible(shown).strip())
    key = name.casefold()
    return name, key if any(ch.isalnum() for ch in key) else ""


def _folded(vis: str) -> str:
    """A line as names are compared with it: spaces collapsed, case folded."""
    return _SPACES.sub(" ", vis).casefold()


def _mentionable(speakers: Sequence[Speaker], folded: str) -> list[tuple[str, Speaker]]:
    """(name, speaker) for each name in folded (a case-folded line) that exactly one of
    speakers goes by (compared case-folded)."""
    by_key: dict[str, tuple[str, Speaker] | None] = {}
    for s in speakers:
        name, key = _name(s.shown)
        if key:
            by_key[key] = (name, s) if key not in by_key else None
    return [entry for key, entry in by_key.items() if entry is not None and key in folded]


@functools.lru_cache(maxsize=64)
def _pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive pattern for all names, the longest first (so "Carol Ann" wins
    over "Carol"), each a group of its own, matched as whole words."""
    alternatives = "|".join(
        "(" + r"\s+".join(re.escape(word) for word in name.split(" ")) + ")" for name in names
    )
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _addressed(vis: str, start: int, end: int) -> bool:
    """Whether a name at vis[start:end] is the line's addressee: first, then ':' or ','."""
    return not vis[:start].strip() and vis[end : end + 1] in (":", ",")


def link_mentions(
    text: str, spans: Sequence[Span], speakers: Sequence[Speaker], limit: int = MAX_LINKED
) -> tuple[str, tuple[Span, ...]]:
    """text and spans with up to limit of speakers' names linked: the first mention of
    each becomes her @username (the text replaced, spans moved) or a LINK span to
    ``tg://user?id=``. Never inside code (CODE/PRE spans, backticks), a URL or a link; a
    one-character name only as the line's addressee ("J: hi")."""
    vis = visible(text)
    return _link(text, vis, spans, _mentionable(speakers, _folded(vis)), limit)


def _link(
    text: str,
    vis: str,
    spans: Sequence[Span],
    named: list[tuple[str, Speaker]],
    limit: int = MAX_LINKED,
) -> tuple[str, tuple[Span, ...]]:
    """link_mentions() once the names found in the line (a substring test each: one regex
    of hundreds of names cost 1.5 ms a line) are known: named, (name, speaker) pairs."""
    if not named or limit < 1:
        return text, tuple(spans)
    entries = sorted(named, key=lambda entry: (-len(entry[0]), entry[0]))
    at: Sequence[int] = (
        range(len(text))  # nearly always: nothing invisible in the line
        if vis is text
        else [i for i, ch in enumerate(text) if unicodedata.category(ch) != "Cf"]
    )
    blocked = [
        (sp.start, sp.end)
        for sp in spans
        if sp.kind in (SpanKind.CODE, SpanKind.PRE, SpanKind.LINK)
    ]
    blocked += [(m.start(), m.end()) for m in _UNLINKABLE.finditer(text)]
    found: list[tuple[int, int, Speaker]] = []
    done: set[str] = set()
    for m in _pattern(tuple(name for name, _ in entries)).finditer(vis):
        assert m.lastindex is not None  # one group per name, and one of them matched
        name, speaker = entries[m.lastindex - 1]
        if speaker.user_id in done:
            continue
        if len(name) < 2 and not _addressed(vis, m.start(), m.end()):
            continue
        start, end = at[m.start()], at[m.end() - 1] + 1
        if any(lo < end and start < hi for lo, hi in blocked):
            continue
        done.add(speaker.user_id)
        found.append((start, end, speaker))
        if len(found) >= limit:
            break
    out, moved = text, list(spans)
    for start, end, speaker in reversed(found):  # from the end: earlier offsets stay put
        if speaker.username and _USERNAME.fullmatch(speaker.username):
            out, moved = _replace(out, moved, start, end, f"@{speaker.username}")
        else:
            moved.append(Span(SpanKind.LINK, start, end, f"tg://user?id={speaker.user_id}"))
    moved.sort(key=lambda sp: (sp.start, -sp.end, sp.kind))
    return out, tuple(moved)


def _replace(
    text: str, spans: list[Span], start: int, end: int, new: str
) -> tuple[str, list[Span]]:
    """text[start:end] replaced by new; spans around it stretch, spans after it move."""
    delta = len(new) - (end - start)

    def moved(pos: int, *, is_end: bool) -> int:
        if pos <= start:
            return pos
        if pos >= end:
            return pos + delta
        return start + len(new) if is_end else start  # inside: the span takes all of new

    out = []
    for sp in spans:
        lo, hi = moved(sp.start, is_end=False), moved(sp.end, is_end=True)
        if lo < hi:
            out.append(Span(sp.kind, lo, hi, sp.url))
    return text[:start] + new + text[end:], out


def shield(
    folded_nicks: AbstractSet[str], mode: AntiHighlight, fold: Callable[[str], str] = irc_casefold
) -> Callable[[str], str]:
    """The anti-highlight for text nobody meant as a mention (a reply's quote, a Telegram
    author's name in it): each whole-word channel nick broken by a zero-width space, as
    the sender's name is; "never" leaves it as it is. fold: the server's case rule, by
    which folded_nicks were folded."""
    if mode == "never":
        return _same
    return functools.partial(anti_highlight, folded_nicks=folded_nicks, mode="auto", fold=fold)


def _same(text: str) -> str:
    return text
