"""human() leaves no socket open when its JOIN is refused: the test fails on its own, and
the unclosed socket must not fail another one at a later garbage collection."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import harness
from tests.support.irc_client import IrcClient, IrcClientError, connect
from tests.support.ircd import IrcServer


async def test_a_refused_join_closes_the_new_person(
    ngircd: IrcServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await connect(ngircd.host, ngircd.port, "owner")
    try:
        await owner.join("#locked")
        owner.send_raw("MODE #locked +k sesame")
        await owner.wait_for(lambda ln: ln.command == "MODE", 5, description="MODE +k")
        made: list[IrcClient] = []

        async def noted(*args: Any, **kwargs: Any) -> IrcClient:
            client = await connect(*args, **kwargs)
            made.append(client)
            return client

        monkeypatch.setattr(harness, "connect", noted)
        with pytest.raises(IrcClientError, match="JOIN #locked failed"):
            await harness.human(ngircd, "bob", "#locked")
        [bob] = made
        assert bob._writer.is_closing()
    finally:
        await owner.close()
