"""End to end: a media link never answers 404 because its file left the cache meanwhile
(issue 21, item 4), on real ngircd with the fake Bot API serving real bytes.

With a 1 MiB cache and six 400 kB photos, every fetch evicts another file; dozens of
requests at once, for all six links, each get 200 and exactly their photo's bytes. Before,
a file could be evicted between the cache lookup and the moment the response opened it, and
that request got a 404 with an empty body.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import ALICE, GROUP
from tests.support.ircd import IrcServer
from tests.support.web import bridge_with_web, local, relayed_link

PHOTOS = 6
ROUNDS = 4
AT_ONCE = 5
"""Requests for each link in every round, all sent together."""


async def test_concurrent_requests_through_a_tiny_cache_all_get_their_bytes(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    photos = [os.urandom(400_000) for _ in range(PHOTOS)]
    async with bridge_with_web(tmp_path, fake_tg, ngircd, media_cache_mb=1) as (b, bob, http):
        links = []
        for photo in photos:
            fake_tg.push_photo(GROUP, ALICE, photo)
            links.append(local(b, (await relayed_link(bob))[1]))

        async def get(url: str) -> tuple[int, bytes]:
            async with http.get(url) as resp:
                return resp.status, await resp.read()

        wrong = []
        async with asyncio.timeout(60):
            for _ in range(ROUNDS):
                wanted = [(link, photo) for link, photo in zip(links, photos, strict=True)]
                asked = [pair for pair in wanted for _ in range(AT_ONCE)]
                answers = await asyncio.gather(*(get(link) for link, _ in asked))
                wrong += [
                    (status, len(body))
                    for (_, photo), (status, body) in zip(asked, answers, strict=True)
                    if (status, body) != (200, photo)
                ]
        assert wrong == []
        assert b.app.web is not None
        cache = b.app.web.cache
        assert cache.evicted > 0 and cache.size <= 1024 * 1024
