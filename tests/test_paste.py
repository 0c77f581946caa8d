"""Paste links' decision and tokens (bridge/paste.py), without a network: the first lines
plus the paste always hold the whole text, a short message is left alone, and a token is
honoured only as signed, until it expires."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge.media_links import LinkExpired, LinkInvalid, MediaLinks
from bridge.paste import PasteLinks, Paster, cut_for_paste, more_line, storable
from bridge.render.irc_format import message_to_irc_lines
from bridge.render.irc_split import format_relay_lines
from storage.pastes import Paste, PasteStore

PUBLIC = "https://bridge.test"
NOW = 1_800_000_000.0


class MemoryPastes(PasteStore):
    """The store's contract (one row per key, ids from 1) in a dict."""

    def __init__(self) -> None:
        self.rows: dict[str, Paste] = {}

    async def put(self, source_key: str, body: str, now: float, expires: int) -> Paste:
        if source_key not in self.rows:
            self.rows[source_key] = Paste(len(self.rows) + 1, body, expires)
        return self.rows[source_key]


def signer(clock: list[float]) -> PasteLinks:
    media = MediaLinks(PUBLIC, ttl_hours=1, max_bytes=1, secret=b"k" * 32, clock=lambda: clock[0])
    return PasteLinks(media)


lines_of_text = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=300, max_size=900),
        st.just("    indented code {<&>}"),
        st.just(""),
    ),
    max_size=14,
)


@settings(max_examples=150, deadline=None)
@given(
    parts=lines_of_text,
    name=st.text(min_size=1, max_size=30),
    budget=st.integers(60, 450),
    over=st.integers(1, 8),
)
@example(parts=[f"line {i}" for i in range(1, 41)], name="Alice Smith", budget=400, over=4)
@example(parts=["a", "b", "c", "d"], name="Alice Smith", budget=400, over=4)
def test_the_first_lines_plus_the_paste_hold_the_whole_text(
    parts: list[str], name: str, budget: int, over: int
) -> None:
    text = "\n".join(parts)
    prefix = f"<{name}> "
    lines = format_relay_lines(prefix, message_to_irc_lines(text), budget)
    store = MemoryPastes()
    clock = [NOW]
    links = signer(clock)
    out = asyncio.run(Paster(links, store, over).shorten("m1>irc:#c", text, prefix, lines, budget))
    if len(lines) <= over:
        assert (out, store.rows) == (lines, {})
        return
    (paste,) = store.rows.values()
    assert paste.body == text  # all of it, code and blank lines as written
    # what the paste holds renders to every IRC line the message would have taken
    assert format_relay_lines(prefix, message_to_irc_lines(paste.body), budget) == lines
    shown = max(1, over - 1)  # the first line always: it carries a reply and a file's link
    assert out[:shown] == lines[:shown]
    url = links.url(paste.id, paste.expires)
    tail = format_relay_lines(prefix, [more_line(len(lines) - shown, url)], budget)
    assert out[shown:] == tail
    assert links.verify(url.rsplit("/", 1)[1]) == paste.id
    if len(tail) == 1:  # the link fits a line (any public_url of sane length)
        assert len(out) == max(2, over)


def test_cut_and_the_last_line() -> None:
    lines = [f"<A> {i}" for i in range(10)]
    assert cut_for_paste(lines, 0) is None
    assert cut_for_paste(lines, 10) is None
    cut = cut_for_paste(lines, 4)
    assert cut is not None and (cut.shown, cut.more) == (lines[:3], 7)
    assert more_line(37, "https://x/p/t") == "[… 37 more lines: https://x/p/t]"
    assert more_line(1, "https://x/p/t") == "[… 1 more line: https://x/p/t]"


def test_one_line_kept_with_paste_over_lines_1() -> None:
    # The first line carries the reply prefix and a file's description and link, which the
    # paste (the message's text) does not hold: before, 1 kept no line and lost the link.
    lines = ["<A> [photo: https://x/m/t] caption 1", "<A> caption 2"]
    cut = cut_for_paste(lines, 1)
    assert cut is not None and (cut.shown, cut.more) == (lines[:1], 1)


def test_a_lone_surrogate_is_stored_as_a_replacement_character() -> None:
    assert storable("a\ud800b") == "a\ufffdb"
    text = "😀 fine"
    assert storable(text) is text


def test_a_token_is_honoured_only_as_signed_and_until_it_expires() -> None:
    clock = [NOW]
    links = signer(clock)
    token = links.url(7, links.expiry()).rsplit("/", 1)[1]
    assert links.verify(token) == 7
    body, _, mac = token.partition(".")
    for bad in (
        "A" + token[1:] if token[0] != "A" else "B" + token[1:],
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        body,
        f"{body}.",
        f"{body}=.{mac}",
        token + "A",
        "",
        "x.y",
    ):
        with pytest.raises(LinkInvalid):
            links.verify(bad)
    other = signer(clock)
    other.media.secret = b"j" * 32
    with pytest.raises(LinkInvalid):
        other.verify(token)  # a rotated secret
    # a media link's token, signed with the same secret, is no paste token
    media_token = links.media.sign("AgACAgIAAxkBAAIBZ2Vx", "photo", 10, "photo.jpg")
    with pytest.raises(LinkInvalid):
        links.verify(media_token)
    clock[0] = NOW + 3600
    with pytest.raises(LinkExpired):
        links.verify(token)


def test_no_secret_yet_relays_the_lines_as_they_are() -> None:
    links = signer([NOW])
    links.media.secret = None
    lines = [f"<A> {i}" for i in range(10)]
    out = asyncio.run(Paster(links, MemoryPastes(), 4).shorten("k", "t", "<A> ", lines, 400))
    assert out == lines
