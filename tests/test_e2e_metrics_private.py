"""End to end: /metrics names no person (issue 21, item 8), on real ngircd with the fake Bot
API.

While the bot's private answer to someone waits (Telegram answered 429), the queue shows
under chat="private", and the person's user id is nowhere in the page. Before, the queue
was labelled with the private chat's id, which is the user's id.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.ircd import IrcServer
from tests.support.web import base, bridge_with_web

DANA = TgUser(4_242_424_242, "Dana")


async def test_a_waiting_private_answer_is_counted_as_private_without_its_user_id(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (b, _bob, http):
        fake_tg.fail_next("sendMessage", kind="429", retry_after=60)
        fake_tg.push_text(DANA.id, DANA, "/help")
        await fake_tg.wait_call("sendMessage")  # refused: the answer waits in its queue
        async with asyncio.timeout(10):
            await b.app.router.lanes.idle()  # the command is done: its answer is stored
        async with http.get(base(b) + "/metrics") as resp:
            assert resp.status == 200
            body = await resp.text()
        queues = {
            (s.name, s.labels["network"], s.labels["chat"]): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
            if s.name.startswith("tgirc_queue_")
        }
        assert queues.keys() == {
            ("tgirc_queue_depth", "telegram", "private"),
            ("tgirc_queue_oldest_age_seconds", "telegram", "private"),
        }
        assert queues["tgirc_queue_depth", "telegram", "private"] == 1.0
        assert str(DANA.id) not in body
        assert [m for m in fake_tg.sent if m.chat_id == DANA.id] == []  # still waiting
