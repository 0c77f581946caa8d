"""End to end: Telegram behaviours an audit found untested (media kinds, name format, merging
near the 4096 limit, leaves, polling faults, SIGINT, unknown updates, the console script).

As in test_e2e_relay, each test asserts the exact IRC lines a person sees or the exact Bot API
calls; every wait is bounded.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.configs import MINIMAL
from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
    write_config,
)
from tests.support.ircd import IrcServer, inspircd_server
from tests.support.proc_harness import REPO, bridge_process

TELEGRAM_LIMIT = 4096


def _file(file_id: str, size: int, **fields: object) -> dict[str, object]:
    """The fields every Bot API file object has, plus the kind's own."""
    return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size, **fields}


async def test_every_media_kind_is_one_line_with_name_size_and_caption(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """Issue 2: each kind is one readable line with the caption, name and size that apply."""
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.push_message(  # Telegram sends one size per resolution, smallest first
            GROUP,
            ALICE,
            photo=[
                _file("p1", 1_500, width=90, height=67),
                _file("p2", 123_456, width=1280, height=960),
                _file("p3", 20_000, width=320, height=240),
            ],
            caption="our meetup",
        )
        fake_tg.push_message(
            GROUP,
            ALICE,
            video=_file("v1", 3_400_000, width=1280, height=720, duration=65, file_name="talk.mp4"),
            caption="the talk",
        )
        gif = {"file_name": "dance.gif.mp4", "mime_type": "video/mp4"}
        fake_tg.push_message(  # an animation arrives with a document twin: one line, not two
            GROUP,
            ALICE,
            animation=_file("a1", 250_000, width=320, height=240, duration=3, **gif),
            document=_file("a1", 250_000, **gif),
        )
        fake_tg.push_message(
            GROUP,
            ALICE,
            audio=_file(
                "au1", 4_200_000, duration=200, performer="Artist", title="Song", file_name="s.mp3"
            ),
        )
        fake_tg.push_message(GROUP, ALICE, audio=_file("au2", 999, duration=1, file_name="d.mp3"))
        fake_tg.push_message(GROUP, ALICE, voice=_file("vo1", 25_000, duration=12))
        fake_tg.push_message(GROUP, ALICE, video_note=_file("vn1", 120_000, length=240, duration=7))
        place = {"latitude": 48.2104, "longitude": 16.3656}
        fake_tg.push_message(
            GROUP,
            ALICE,
            location=place,
            venue={"location": place, "title": "Café Central", "address": "Herrengasse 14, Wien"},
        )
        fake_tg.push_message(
            GROUP,
            ALICE,
            contact={"phone_number": "+43 1 234567", "first_name": "Ann", "last_name": "Example"},
        )
        lines = [ln.text for ln in await bob.expect_privmsgs(CHANNEL, 9, source_nick=BOT_NICK)]
        assert lines == [
            "<Alice Smith> [photo, 123.5 kB] our meetup",
            "<Alice Smith> [video: talk.mp4, 1:05, 3.4 MB] the talk",
            "<Alice Smith> [animation: dance.gif.mp4, 0:03, 250.0 kB]",
            "<Alice Smith> [audio: Artist – Song, 4.2 MB]",
            "<Alice Smith> [audio: d.mp3, 999 B]",
            "<Alice Smith> [voice 0:12, 25.0 kB]",
            "<Alice Smith> [video note 0:07, 120.0 kB]",
            "<Alice Smith> [venue Café Central, Herrengasse 14, Wien]",
            "<Alice Smith> [contact Ann Example +43 1 234567]",
        ]
        assert not any(fake_tg.token in ln or "://" in ln for ln in lines)
        await bob.assert_no_line(lambda ln: ln.command == "PRIVMSG", within=0.5)
        await bob.close()


async def test_custom_name_format(tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer) -> None:
    """relay.name_format decides how the sender's name frames each line (actions keep theirs)."""
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, relay={"name_format": "[{name}]:"}
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.push_text(GROUP, ALICE, "hello\nworld")
        fake_tg.push_text(GROUP, ALICE, "/me waves")
        lines = await bob.expect_privmsgs(CHANNEL, 3, source_nick=BOT_NICK)
        assert [ln.text for ln in lines[:2]] == ["[Alice Smith]: hello", "[Alice Smith]: world"]
        assert lines[2].action_text == "Alice Smith waves"
        await bob.close()


async def test_merged_messages_stay_within_4096_visible_characters(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    """A burst of long IRC lines while the group's bucket is empty: merged, never too long."""
    # The human may write 30 x ~420 bytes at once without InspIRCd's RecvQ or rate limits
    # cutting it off; the bridge must then merge within Telegram's limit.
    async with inspircd_server(
        tmp_path / "ircd", commandrate=100_000, threshold=1000, recvq=65536
    ) as ircd:
        config = write_config(
            tmp_path / "config.toml",
            fake_tg,
            ircd,
            telegram={"messages_per_minute": 30, "burst": 1},
        )
        async with running_bridge(config):
            bob = await human(ircd, "bob", CHANNEL)
            # "<" and "&" make the escaped HTML longer than what Telegram shows
            texts = [f"{i:02d} " + ("a<b & c " * 49).rstrip() for i in range(30)]
            assert all(390 <= len(t) <= 400 for t in texts)
            for text in texts:
                bob.privmsg(CHANNEL, text)
            await bob.drain()
            received: list[str] = []
            deadline = time.monotonic() + 40
            while len(received) < len(texts):
                [msg] = await fake_tg.wait_sent(timeout=max(0.1, deadline - time.monotonic()))
                assert msg.method == "sendMessage" and msg.visible_text is not None
                assert len(msg.visible_text.encode("utf-16-le")) // 2 <= TELEGRAM_LIMIT
                received += msg.visible_text.split("\n")
            assert received == [f"bob: {t}" for t in texts]
            sends = [a for a in fake_tg.attempts if a.method == "sendMessage"]
            assert all(a.status == 200 for a in sends)
            assert 3 <= len(sends) <= 6  # merged (30 lines), but ~10 per message at most
            await bob.close()


async def test_a_refused_merged_message_costs_no_line_but_the_refused_one(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """Telegram refuses a merged message (400): the lines are sent again unmerged, and only
    a line refused on its own is dropped; nothing merged with it is lost."""
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, telegram={"messages_per_minute": 60, "burst": 1}
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        bob.privmsg(CHANNEL, "first")
        [first] = await fake_tg.wait_sent(timeout=10)
        assert first.visible_text == "bob: first"
        fake_tg.fail_next("sendMessage", 1, "400")  # the next (merged) send is refused
        for n in range(3):
            bob.privmsg(CHANNEL, f"line {n}")
        received: list[str] = []
        deadline = time.monotonic() + 20
        while len(received) < 3:
            [msg] = await fake_tg.wait_sent(timeout=max(0.1, deadline - time.monotonic()))
            assert msg.visible_text is not None
            received += msg.visible_text.split("\n")
        assert received == ["bob: line 0", "bob: line 1", "bob: line 2"]
        refused = [a for a in fake_tg.attempts if a.method == "sendMessage" and a.status == 400]
        assert len(refused) == 1  # the merged message, with all three lines
        assert all(f"line {n}" in str(refused[0].params.get("text")) for n in range(3))
        await bob.close()


async def test_telegram_member_leaving_is_relayed(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd, relay={"telegram_joins": True})
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        leaver = TgUser(1011, "Leaving", "Person")
        fake_tg.push_message(GROUP, leaver, left_chat_member=leaver.to_json())
        [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        assert line.text == "* Leaving Person left the Telegram group"
        await bob.close()


async def test_polling_honours_retry_after_and_backs_off_on_network_errors(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        polled = fake_tg.calls.count("getUpdates")
        fake_tg.fail_next("getUpdates", 1, "429", retry_after=3)
        fake_tg.push_text(GROUP, ALICE, "one")  # ends the current long poll; the next is a 429
        [first] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        await fake_tg.wait_call("getUpdates", polled + 1)  # the 429 has been answered
        fake_tg.push_text(GROUP, ALICE, "two")  # pushed while the bot waits out retry_after
        fake_tg.push_text(GROUP, ALICE, "three")
        lines = [first, *await bob.expect_privmsgs(CHANNEL, 2, timeout=15, source_nick=BOT_NICK)]

        fake_tg.fail_next("getUpdates", 1, "drop")  # the connection dies without an answer
        fake_tg.push_text(GROUP, ALICE, "four")
        lines += await bob.expect_privmsgs(CHANNEL, 1, timeout=15, source_nick=BOT_NICK)
        fake_tg.push_text(GROUP, ALICE, "five")
        lines += await bob.expect_privmsgs(CHANNEL, 1, timeout=15, source_nick=BOT_NICK)

        assert [ln.text for ln in lines] == [
            f"<Alice Smith> {w}" for w in ("one", "two", "three", "four", "five")
        ]
        await bob.assert_no_line(lambda ln: ln.command == "PRIVMSG", within=1.0)
        polls = [a for a in fake_tg.attempts if a.method == "getUpdates"]
        limited = next(i for i, a in enumerate(polls) if a.fault == "429")
        assert polls[limited + 1].time - polls[limited].time >= 3.0
        dropped = next(i for i, a in enumerate(polls) if a.fault == "drop")
        assert polls[dropped + 1].time - polls[dropped].time >= 0.9  # backoff, not a hot loop
        await bob.close()


async def test_sigint_stops_cleanly_like_sigterm(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with bridge_process(config) as bot:
        await bot.start()
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.push_text(GROUP, ALICE, "before ctrl-c")
        [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        assert line.text == "<Alice Smith> before ctrl-c"
        assert await bot.terminate(sig=signal.SIGINT) == 0
        quit_ = await bob.wait_for(lambda ln: ln.command == "QUIT" and ln.source_nick == BOT_NICK)
        assert "shutting down" in quit_.text
        assert not bot.logged("Traceback") and not bot.logged("KeyboardInterrupt")
        await bob.close()


async def test_unknown_update_kind_is_skipped_at_debug_level(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A my_chat_member update (the bot was added to a group) is not relayed, nor a warning."""
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)  # logging.level = DEBUG
    bot_user = fake_tg.bot_user.to_json()
    chat = {"id": GROUP, "type": "supergroup", "title": "Bridge group"}
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        with caplog.at_level(logging.DEBUG, logger="bridge"):
            odd = fake_tg.push_update(
                {
                    "my_chat_member": {
                        "chat": chat,
                        "from": ALICE.to_json(),
                        "date": int(time.time()),
                        "old_chat_member": {"status": "left", "user": bot_user},
                        "new_chat_member": {"status": "member", "user": bot_user},
                    }
                },
                created_before_filter=True,
            )
            fake_tg.push_text(GROUP, ALICE, "after the odd one")
            [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert line.text == "<Alice Smith> after the odd one"
            await fake_tg.wait_confirmed(odd.update_id)
        await bob.assert_no_line(lambda ln: ln.command == "PRIVMSG", within=0.5)
        assert not fake_tg.sent
        await bob.close()
    ours = [r for r in caplog.records if r.name.startswith("bridge.telegram")]
    about = [r for r in ours if f"update {odd.update_id} " in r.getMessage()]
    assert [(r.levelno, r.getMessage()) for r in about] == [
        (logging.DEBUG, f"Telegram: skipping update {odd.update_id} of an unhandled kind")
    ]
    assert not [r.getMessage() for r in ours if r.levelno >= logging.WARNING]


def test_console_script_check_config(tmp_path: Path) -> None:
    """The installed ``tgirc-bridge`` entry point validates a config like ``python -m bridge``."""
    script = REPO / ".venv" / "bin" / "tgirc-bridge"
    assert script.exists(), "install the project into .venv (scripts/run.sh does)"
    good = tmp_path / "good.toml"
    good.write_text(MINIMAL, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace('host = "127.0.0.1"', 'host = "127.0.0.1"\nport = "six"'))

    def check(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), "check-config", "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
            check=False,
        )

    ok = check(good)
    assert (ok.returncode, ok.stdout.strip()) == (0, f"{good}: OK (1 bridged pair(s))")
    failed = check(bad)
    assert failed.returncode == 2
    assert "irc.port: expected an integer, got str" in failed.stderr + failed.stdout
    assert "Traceback" not in failed.stderr
