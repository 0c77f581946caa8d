"""One bridge per database (issue 9, case 12, first half): a second `tgirc-bridge run` on the
same database refuses to start with one clear line, before it connects to anything, while
the read-only commands keep working next to the running bridge.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from storage.instance_lock import InstanceLocked, instance_lock, lock_path_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import CHANNEL, human, write_config
from tests.support.ircd import IrcServer
from tests.support.proc_harness import bridge_process, run_cli


def test_a_second_holder_is_refused_until_the_first_lets_go(tmp_path: Path) -> None:
    db = tmp_path / "data" / "bridge.sqlite3"
    lock = lock_path_for(db)
    assert lock == tmp_path / "data" / "bridge.sqlite3.lock"
    with instance_lock(db):
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        assert lock.read_text().strip() == str(os.getpid())
        # flock locks belong to the open file, so a second open in this process conflicts too
        with pytest.raises(InstanceLocked) as info, instance_lock(db):
            pass
        assert str(info.value) == (
            f"another tgirc-bridge instance is running on {db} "
            f"(pid {os.getpid()} holds the lock file {lock}); stop it first"
        )
    with instance_lock(db):  # released when the holder ends
        pass


async def test_second_run_refuses_to_start_and_read_commands_still_work(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    lock = lock_path_for(tmp_path / "bridge.sqlite3")
    async with bridge_process(config) as first:
        await first.start()
        bob = await human(ngircd, "bob", CHANNEL)
        calls_before = len(fake_tg.attempts)

        code, _, err = await run_cli("run", "--config", str(config))
        assert code == 1
        lines = err.strip().splitlines()
        assert lines == [
            f"error: another tgirc-bridge instance is running on {tmp_path / 'bridge.sqlite3'} "
            f"(pid {first.pid} holds the lock file {lock}); stop it first"
        ]
        # refused before it spoke to Telegram or IRC
        assert not [a for a in fake_tg.attempts[calls_before:] if a.method == "getMe"]
        await bob.assert_no_line(lambda ln: ln.command == "JOIN" and ln.source_nick != "bob", 0.5)

        code, out, err = await run_cli("status", "--config", str(config))
        assert code == 0 and "irc: ready" in out, err
        target = tmp_path / "roster.json"
        code, _, err = await run_cli(
            "export", "--config", str(config), "--format", "json", "-o", str(target)
        )
        assert code == 0 and target.read_text(encoding="utf-8") == "[]", err
        assert await first.terminate() == 0
        await bob.close()

    async with bridge_process(config) as again:  # the lock went with the first process
        await again.start()
        assert await again.terminate() == 0
