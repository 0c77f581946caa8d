"""Signed media links: what the relay puts on IRC and what the web server honours."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.media_links import (
    KINDS,
    MIB,
    TOO_LARGE,
    LinkExpired,
    LinkInvalid,
    MediaLinks,
    safe_name,
)
from bridge.model import Attachment

SECRET = b"k" * 32
PHOTO = Attachment("photo", size=1_200_000, file_id="AgACAgIAAxkBAAIBZ2Vx-_AAAAA")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def signer(clock: Clock | None = None, secret: bytes | None = SECRET) -> MediaLinks:
    return MediaLinks(
        "https://bridge.test/x/",
        ttl_hours=72,
        max_bytes=20 * MIB,
        secret=secret,
        clock=clock or Clock(),
    )


def parts(link: str) -> tuple[str, str]:
    token, name = link.rsplit("/", 2)[1:]
    return token, name


def test_link_round_trip() -> None:
    links = signer()
    link = links.link_for(PHOTO)
    assert link is not None and link.startswith("https://bridge.test/x/m/")
    assert link.endswith("/photo.jpg")
    ref = links.verify(*parts(link))
    assert (ref.file_id, ref.kind, ref.size, ref.name) == (
        PHOTO.file_id,
        "photo",
        1_200_000,
        "photo.jpg",
    )
    assert ref.expires == 1_800_000_000 + 72 * 3600


def test_expired_at_ttl() -> None:
    clock = Clock()
    links = signer(clock)
    token, name = parts(links.link_for(PHOTO) or "")
    clock.now += 72 * 3600 - 1
    links.verify(token, name)
    clock.now += 1
    with pytest.raises(LinkExpired):
        links.verify(token, name)


def test_every_changed_character_is_refused() -> None:
    links = signer()
    token, name = parts(links.link_for(PHOTO) or "")
    for i, c in enumerate(token):
        other = "B" if c != "B" else "C"
        with pytest.raises(LinkInvalid):
            links.verify(token[:i] + other + token[i + 1 :], name)
    for bad in ("photo.html", "photo.jpeg", ""):
        with pytest.raises(LinkInvalid):
            links.verify(token, bad)
    for garbage in ("", ".", "abc", "a.b", "!!!.???", token + "A"):
        with pytest.raises(LinkInvalid):
            links.verify(garbage, name)


def test_another_secret_invalidates_every_link() -> None:
    link = signer().link_for(PHOTO) or ""
    with pytest.raises(LinkInvalid):
        signer(secret=b"z" * 32).verify(*parts(link))
    with pytest.raises(LinkInvalid):
        signer(secret=None).verify(*parts(link))


def test_no_link_without_file_or_secret_and_too_large() -> None:
    links = signer()
    assert links.link_for(Attachment("location", detail="1, 2")) is None
    assert links.link_for(Attachment("photo")) is None  # no file_id
    assert signer(secret=None).link_for(PHOTO) is None
    big = Attachment("document", "big.zip", 20 * MIB + 1, file_id="F")
    assert links.link_for(big) == TOO_LARGE
    assert links.link_for(Attachment("document", "ok.zip", 20 * MIB, file_id="F"))


@pytest.mark.parametrize(
    ("att", "name"),
    [
        (Attachment("photo"), "photo.jpg"),
        (Attachment("document", "report.pdf"), "report.pdf"),
        (Attachment("document", "../../etc/pass wd;rm -rf.PDF"), "etc_pass_wd_rm_-rf.pdf"),
        (Attachment("document", "résumé", mime_type="application/pdf"), "r_sum.pdf"),
        (Attachment("document", '"><script>.html'), "script.html"),
        (Attachment("document"), "file.bin"),
        (Attachment("voice"), "voice.ogg"),
        (Attachment("sticker"), "sticker.webp"),
        (Attachment("audio", "Song Title.mp3"), "Song_Title.mp3"),
        (Attachment("document", "." * 5), "file.bin"),
    ],
)
def test_safe_name(att: Attachment, name: str) -> None:
    assert safe_name(att) == name


@given(
    file_id=st.text(min_size=1, max_size=120),
    kind=st.sampled_from(KINDS),
    size=st.integers(0, 20 * MIB),
    file_name=st.none() | st.text(max_size=80),
)
def test_any_attachment_gives_one_clean_link_that_verifies(
    file_id: str, kind: str, size: int, file_name: str | None
) -> None:
    links = signer()
    link = links.link_for(Attachment(kind, file_name, size, file_id=file_id))
    assert link is not None
    assert link.isascii() and link.isprintable() and " " not in link
    ref = links.verify(*parts(link))
    assert (ref.file_id, ref.kind, ref.size) == (file_id, kind, size)
