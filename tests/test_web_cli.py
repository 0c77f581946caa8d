"""`tgirc-bridge rotate-web-secret`: a new signing secret, so every link given out dies."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.media_links import MIB, LinkInvalid, MediaLinks
from bridge.model import Attachment
from storage.db import Database
from storage.web_secret import WebSecretStore
from tests.support.configs import MINIMAL
from tests.support.proc_harness import run_cli


async def secret_of(path: Path) -> bytes:
    db = await Database.open(path)
    try:
        return await WebSecretStore(db).get_or_create()
    finally:
        await db.close()


async def test_rotate_web_secret_invalidates_links(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(MINIMAL + '[storage]\npath = "b.sqlite3"\n', encoding="utf-8")
    code, _, err = await run_cli("rotate-web-secret", "--config", str(config))
    assert code == 1 and "b.sqlite3" in err  # no database yet: none is created
    old = await secret_of(tmp_path / "b.sqlite3")
    links = MediaLinks("https://b.test", ttl_hours=1, max_bytes=MIB, secret=old)
    link = links.link_for(Attachment("photo", file_id="F")) or ""
    token, name = link.rsplit("/", 2)[1:]
    code, out, err = await run_cli("rotate-web-secret", "--config", str(config))
    assert (code, err) == (0, "")
    assert out == "web secret rotated: every media link given out so far now answers 404\n"
    links.secret = await secret_of(tmp_path / "b.sqlite3")
    assert links.secret != old
    with pytest.raises(LinkInvalid):
        links.verify(token, name)
