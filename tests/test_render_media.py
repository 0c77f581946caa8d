"""Table and property tests for media descriptions shown on IRC."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.model import Attachment
from bridge.render.media import (
    describe_attachment,
    format_duration,
    format_size,
)

TOKEN_URL = "https://api.telegram.org/file/bot123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ra/x.jpg"


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (1536, "1.5 kB"),
        (1_200_000, "1.2 MB"),
        (999_960, "1.0 MB"),
        (3_400_000_000, "3.4 GB"),
        (-5, "0 B"),
    ],
)
def test_format_size(size: int, expected: str) -> None:
    assert format_size(size) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0, "0:00"), (12, "0:12"), (75, "1:15"), (3723, "1:02:03")]
)
def test_format_duration(seconds: int, expected: str) -> None:
    assert format_duration(seconds) == expected


@pytest.mark.parametrize(
    ("att", "expected"),
    [
        (Attachment("photo"), "[photo]"),
        (Attachment("photo", "p.jpg", 2_000_000, "x"), "[photo, 2.0 MB]"),
        (Attachment("document", "report.pdf", 1_200_000), "[document: report.pdf, 1.2 MB]"),
        (Attachment("document", "report.pdf"), "[document: report.pdf]"),
        (Attachment("document", None, 5000), "[document, 5.0 kB]"),
        (Attachment("document"), "[document]"),
        (Attachment("sticker", detail="😀"), "[sticker 😀]"),
        (Attachment("sticker"), "[sticker]"),
        (Attachment("location", detail="52.52, 13.405"), "[location 52.52, 13.405]"),
        (Attachment("venue", detail="Name, address"), "[venue Name, address]"),
        (Attachment("contact", detail="Name +123"), "[contact Name +123]"),
        (Attachment("poll", detail="Question? (a / b / c)"), "[poll: Question? (a / b / c)]"),
        (Attachment("dice", detail="🎲 4"), "[dice 🎲 4]"),
        (Attachment("voice", detail="12"), "[voice 0:12]"),
        (Attachment("voice", None, 25_000, "12"), "[voice 0:12, 25.0 kB]"),
        (Attachment("voice"), "[voice]"),
        (Attachment("video_note"), "[video note]"),
        (Attachment("video_note", detail="7"), "[video note 0:07]"),
        (Attachment("video_note", None, 120_000, "7"), "[video note 0:07, 120.0 kB]"),
        (Attachment("video", "v.mp4", 3_400_000, "65"), "[video: v.mp4, 1:05, 3.4 MB]"),
        (Attachment("video", None, 3_400_000, "65"), "[video 1:05, 3.4 MB]"),
        (Attachment("video"), "[video]"),
        (
            Attachment("audio", "a.mp3", 3_400_000, "Artist – Title"),
            "[audio: Artist – Title, 3.4 MB]",
        ),
        (Attachment("audio", "a.mp3"), "[audio: a.mp3]"),
        (Attachment("animation", "x.gif.mp4", 10, "3"), "[animation: x.gif.mp4, 0:03, 10 B]"),
        (Attachment("animation", None, 1500), "[animation, 1.5 kB]"),
        (Attachment("game", detail="Tetris"), "[game Tetris]"),
        (Attachment("document", "evil\r\nQUIT :x.pdf"), "[document: evil QUIT :x.pdf]"),
        (Attachment("document", TOKEN_URL), "[document: <link>]"),
        (Attachment("sticker", detail="see 123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ra"),
         "[sticker see <redacted>]"),
    ],
)  # fmt: skip
def test_describe_attachment(att: Attachment, expected: str) -> None:
    assert describe_attachment(att) == expected


def test_describe_attachment_truncates_long_details() -> None:
    out = describe_attachment(Attachment("poll", detail="word " * 100))
    assert out.startswith("[poll: word word") and out.endswith("…]")
    assert len(out) <= 130


KINDS = st.sampled_from(
    [
        *["photo", "video", "animation", "document", "audio", "voice", "video_note", "sticker"],
        *["location", "venue", "contact", "poll", "dice", "weird\nkind"],
    ]
)


@settings(deadline=None, max_examples=300)
@given(
    KINDS,
    st.none() | st.text(max_size=60),
    st.none() | st.integers(0, 10**13),
    st.none() | st.text(max_size=60) | st.just(TOKEN_URL),
)
def test_description_is_one_safe_line(
    kind: str, file_name: str | None, size: int | None, detail: str | None
) -> None:
    out = describe_attachment(Attachment(kind, file_name, size, detail))
    assert out.startswith("[") and out.endswith("]")
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in out)
    assert "://" not in out
    assert "AAEhBOweik6ad9r" not in out


# ---------------------------------------------------------------- the bridge's own link

LINK = "https://bridge.test/m/gGsUAXcAAASwAgACAgIAAxkBAAIBZ2Vx.buM7HAxhjPbBKFSHBbK2NA/photo.jpg"


@pytest.mark.parametrize(
    ("att", "expected"),
    [
        (Attachment("photo", size=1_200_000, link=LINK), f"[photo, 1.2 MB] {LINK}"),
        (
            Attachment("document", "big.zip", 25_000_000, link="(too large to fetch)"),
            "[document: big.zip, 25.0 MB] (too large to fetch)",
        ),
        (Attachment("photo", size=10), "[photo, 10 B]"),
    ],
)
def test_link_follows_the_description(att: Attachment, expected: str) -> None:
    assert describe_attachment(att) == expected


def test_link_on_the_first_line_before_the_caption() -> None:
    from bridge.render.irc_format import message_to_irc_lines

    lines = message_to_irc_lines(
        "look at this\nsecond line", attachments=[Attachment("photo", size=10, link=LINK)]
    )
    assert lines == [f"[photo, 10 B] {LINK} look at this", "second line"]


@settings(deadline=None, max_examples=500)
@given(
    name=st.text(min_size=1, max_size=60),
    caption=st.text(max_size=600),
    budget=st.integers(60, 480),
)
def test_split_never_cuts_the_link_and_keeps_it_first(name: str, caption: str, budget: int) -> None:
    """Whatever the caption, the link reaches IRC whole whenever the name prefix leaves room
    for it at all, and on the first line whenever the description fits beside it."""
    from bridge.render.irc_format import message_to_irc_lines
    from bridge.render.irc_split import format_relay_lines, split_irc_payload

    att = Attachment("document", "report.pdf", 1_200_000, link=LINK)
    head = describe_attachment(att)
    lines = message_to_irc_lines(caption, attachments=[att])
    prefix = f"<{name}> "
    chunks = format_relay_lines(prefix, lines, budget)
    shown = (
        prefix if len(prefix.encode()) <= budget // 2 else split_irc_payload(prefix, budget // 2)[0]
    )
    room = budget - len(shown.encode())
    if len(LINK) <= room:
        assert len([c for c in chunks if LINK in c]) == 1
    if len(head) + 1 <= room:
        assert LINK in chunks[0]
