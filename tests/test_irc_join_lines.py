"""Many bridged channels are joined several per JOIN line, within what the server says it
takes (TARGMAX / MAXTARGETS / LINELEN), at the default pacing and without a flood kill."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bridge.irc.joins import DEFAULT_TARGETS, Joins, join_limits, join_lines
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import GROUP, running_bridge, watching_logs, write_config
from tests.support.ircd import inspircd_server, ngircd_server

PAIRS = tuple((GROUP - i, f"#pair{i}") for i in range(50))
DEFAULT_PACING = {"send_burst": 4, "send_rate": 1.0}  # the config's defaults


def test_limits_come_from_targmax_then_maxtargets_then_a_default() -> None:
    assert join_limits({"targmax": {"JOIN": 5, "PRIVMSG": 4}, "maxtargets": 20}) == (5, 512)
    assert join_limits({"targmax": {"JOIN": None}}) == (50, 512)  # no number: our own cap
    assert join_limits({"targmax": {"PRIVMSG": 4}, "maxtargets": 20}) == (20, 512)
    assert join_limits({"linelen": 1024}) == (DEFAULT_TARGETS, 1024)
    assert join_limits({"linelen": 100}) == (DEFAULT_TARGETS, 512)  # never below 512


def test_lines_keep_to_the_target_count_and_the_line_length() -> None:
    names = [f"#c{i}" for i in range(7)]
    assert join_lines(names, 3, 512) == [names[:3], names[3:6], names[6:]]
    long = ["#" + "x" * 99 + str(i) for i in range(10)]  # 101 bytes each
    lines = join_lines(long, 50, 512)
    assert [len(line) for line in lines] == [4, 4, 2]
    for line in lines:
        assert len(("JOIN " + ",".join(line) + "\r\n").encode()) <= 512


@pytest.mark.parametrize("server", ["ngircd", "inspircd"])
async def test_fifty_pairs_join_in_a_few_lines_without_a_flood_kill(
    tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines: list[str] = []
    real = Joins._join_line

    def noting(self: Joins, channels: str) -> None:
        lines.append(channels)
        real(self, channels)

    monkeypatch.setattr(Joins, "_join_line", noting)
    channels = tuple(c for _, c in PAIRS)
    ircd = (
        ngircd_server(tmp_path, channels=channels)
        if server == "ngircd"
        # flood limits as an operator sets them for the default pacing (bench/relay.py)
        else inspircd_server(tmp_path, commandrate=1250, threshold=8, fakelag=True)
    )
    async with ircd, FakeTelegram() as fake:
        for chat, _ in PAIRS:
            fake.add_chat(chat, "supergroup", title=f"Group {chat}")
        config = write_config(tmp_path / "config.toml", fake, ircd, pairs=PAIRS, irc=DEFAULT_PACING)
        with watching_logs() as logs:
            began = time.monotonic()
            async with running_bridge(config, timeout=20) as bridge:
                took = time.monotonic() - began
                assert all(bridge.app.irc.channel_status()[c] == "joined" for c in channels)
                assert logs.found("connection lost") == []
    # InspIRCd says MAXTARGETS=20; ngircd names no limit (DEFAULT_TARGETS)
    per_line = 20 if server == "inspircd" else DEFAULT_TARGETS
    assert [len(line.split(",")) for line in lines] == [per_line] * (50 // per_line) + (
        [50 % per_line] if 50 % per_line else []
    )
    # one JOIN per channel at 1 line/s after a burst of 4 would take 46 s
    assert took < 10, took
    print(f"{server}: 50 pairs joined {took:.2f} s after start, in {len(lines)} JOIN lines")
