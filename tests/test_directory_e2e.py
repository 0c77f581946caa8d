"""The whole bridge with [web]: /listed typed on IRC puts bob on /members, /whois ends with
the directory's link, /leave takes him off at once."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import BOT_NICK, CHANNEL
from tests.support.ircd import IrcServer
from tests.support.web import PUBLIC, base, bridge_with_web


async def test_listed_on_irc_shows_on_the_page_until_leave(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (b, bob, http):
        async with http.get(base(b) + "/members") as resp:
            assert resp.status == 200
            assert "0 members are listed" in await resp.text()
        bob.privmsg(CHANNEL, "!interests python, lua")
        await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        bob.privmsg(CHANNEL, "!listed yes")
        (done,) = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        assert done.text.startswith(f"Done: you are listed in the members directory ({PUBLIC}")
        async with http.get(base(b) + "/members") as resp:
            html = await resp.text()
        assert "1 member is listed" in html
        assert f"<bdi>bob</bdi> on {CHANNEL}" in html
        assert '<a href="/bridge/interests/lua">lua</a>' in html
        bob.privmsg(CHANNEL, "!whois python")
        lines = await bob.expect_privmsgs(CHANNEL, 2, source_nick=BOT_NICK)
        assert lines[-1].text == f"Listed members on the web: {PUBLIC}/members?q=python"
        bob.privmsg(CHANNEL, "!leave")
        await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        async with http.get(base(b) + "/members.json") as resp:
            assert (await resp.json())["total"] == 0
