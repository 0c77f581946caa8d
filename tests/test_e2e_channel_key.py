"""End to end: a `+k` channel is bridged with its `[[bridge]] irc_key`, and the key is in no
log line, in no `status` line and in no check-config error (issue 21, item 10).

The bridge joins several channels per JOIN line; keys pair with the line's first names in
order (RFC 2812), so a keyless channel configured before two keyed ones must move behind
them, or the server hands its key to the wrong channel and refuses the join.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.irc.joins import join_lines
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import ALICE, BOT_NICK, GROUP, human, toml_value, write_config
from tests.support.irc_client import Line
from tests.support.ircd import IrcServer, inspircd_server, ngircd_server
from tests.support.proc_harness import bridge_process, run_cli

KEYS = {"#locked1": "Kx9-first-lock", "#locked2": "Qz7-second-lock"}
PAIRS = [(GROUP, "#open", None), (GROUP - 1, "#locked1", KEYS["#locked1"])]
PAIRS += [(GROUP - 2, "#locked2", KEYS["#locked2"])]
ONE_WORD = "expected the channel's key as one word (no spaces, commas or control characters)"
COLON = "must not start with ':'"


def keyed_config(path: Path, fake: FakeTelegram, ircd: IrcServer) -> Path:
    """The harness's config with [[bridge]] tables carrying irc_key (they may follow others)."""
    write_config(path, fake, ircd, pairs=())
    tables = "".join(
        f"\n[[bridge]]\ntelegram_chat = {chat}\nirc_channel = {toml_value(channel)}\n"
        + (f"irc_key = {toml_value(key)}\n" if key else "")
        for chat, channel, key in PAIRS
    )
    path.write_text(path.read_text(encoding="utf-8") + tables, encoding="utf-8")
    return path


def test_keys_count_against_the_join_line_length() -> None:
    names = ["#" + "x" * 99 + str(i) for i in range(6)]  # 101 bytes each
    keys = {names[0]: "k" * 99, names[1]: "k" * 99}
    lines = join_lines(names, 50, 512, keys)
    assert lines == [names[:3], names[3:]]  # without the keys the first line takes four
    for line in lines:
        keyed = [keys[n] for n in line if n in keys]
        text = "JOIN " + ",".join(line) + (" " + ",".join(keyed) if keyed else "") + "\r\n"
        assert len(text.encode()) <= 512


def mode_set(channel: str) -> Callable[[Line], bool]:
    return lambda line: line.command == "MODE" and line.target == channel


def irc_server(kind: str, tmp_path: Path) -> IrcServer:
    # ngircd without pre-defined channels: those are +P, and the first in is no operator
    if kind == "ngircd":
        return ngircd_server(tmp_path / "ircd", channels=())
    return inspircd_server(tmp_path / "ircd")


@pytest.mark.parametrize("server", ["ngircd", "inspircd"])
async def test_a_keyed_channel_is_joined_with_its_key_and_the_key_is_never_logged(
    tmp_path: Path, fake_tg: FakeTelegram, server: str
) -> None:
    for chat, channel, _ in PAIRS[1:]:
        fake_tg.add_chat(chat, "supergroup", title=f"Group {channel}")
    async with irc_server(server, tmp_path) as ircd:
        op = await human(ircd, "op", "#open", *KEYS)  # first in each: channel operator
        for channel, key in KEYS.items():
            op.send_raw(f"MODE {channel} +k {key}")
            await op.wait_for(mode_set(channel))
        config = keyed_config(tmp_path / "config.toml", fake_tg, ircd)
        async with bridge_process(config) as bridge:
            await bridge.start()  # ready: every channel joined
            fake_tg.push_text(GROUP - 1, ALICE, "through the lock")
            [line] = await op.expect_privmsgs("#locked1", 1, source_nick=BOT_NICK)
            assert line.text == "<Alice Smith> through the lock"
            op.privmsg("#locked2", "and back")
            [sent] = await fake_tg.wait_sent(lambda m: m.chat_id == GROUP - 2)
            assert sent.visible_text == "op: and back"
            code, status, _ = await run_cli("status", "--config", str(config))
            assert code == 0
            assert "irc channel #locked1: joined" in status
            assert "irc channel #locked2: joined" in status
            assert await bridge.terminate() == 0
        await op.close()
    log = (tmp_path / "bridge.log").read_text(encoding="utf-8")
    # the irc library's own DEBUG line: keyed channels first, their keys in the same order
    assert "RAW: JOIN #locked1,#locked2,#open ***,***" in log
    assert "IRC: not in #" not in log  # no key went to the wrong channel, no JOIN refused
    for key in KEYS.values():
        assert key not in log
        assert key not in status


@pytest.mark.parametrize(
    ("toml", "shown"),
    [
        ('"two Secret-words"', "Secret-words"),
        ('"Secret-1,Secret-2"', "Secret-1"),
        ('"tab\\tSecret"', "Secret"),
        ('"bell\\u0007Secret"', "Secret"),
        ('":Secret"', "Secret"),
        ('""', ""),
    ],
)
async def test_check_config_refuses_a_key_that_would_break_the_join_line_without_showing_it(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, toml: str, shown: str
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    text = config.read_text(encoding="utf-8")
    pair = 'irc_channel = "#bridge"\n'
    config.write_text(text.replace(pair, f"{pair}irc_key = {toml}\n"), encoding="utf-8")
    code, out, err = await run_cli("check-config", "--config", str(config))
    assert code == 2, out + err
    why = COLON if toml.startswith('":') else ONE_WORD
    assert [ln for ln in err.splitlines() if "irc_key" in ln] == [
        f"config error: bridge[0].irc_key: {why}"
    ]
    if shown:
        assert shown not in out + err
