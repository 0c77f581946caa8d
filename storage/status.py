"""What `tgirc-bridge status` shows of the running bridge: each connection's state, each
bridged IRC channel's, and the Telegram topics whose messages wait. The bridge writes it
(bridge/app.py) every few seconds and when it stops; the CLI reads it back as data."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.model import Network
from storage.db import Database


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    state: str
    """ready, connecting, disconnected, stopped, ...; "unknown" when never written."""
    as_of: float = 0.0
    """When the bridge wrote it, unix seconds; 0 when never."""


UNKNOWN = ConnectionStatus("unknown")

CONNECTION_SQL = (
    "INSERT INTO connection_status (network, state, as_of) VALUES (?, ?, ?) "
    "ON CONFLICT (network) DO UPDATE SET state = excluded.state, as_of = excluded.as_of"
)


@dataclass(frozen=True, slots=True)
class BridgeStatus:
    irc: ConnectionStatus = UNKNOWN
    telegram: ConnectionStatus = UNKNOWN
    irc_channels: tuple[tuple[str, str], ...] = ()
    """(bridged channel, its state), in the order the IRC connector gave them."""
    waiting_topics: tuple[tuple[str, str], ...] = ()
    """(Telegram topic's chat key, why its messages wait): closed or deleted topics."""


class StatusStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def write(self, status: BridgeStatus) -> None:
        async with self.db.transaction() as conn:
            await conn.executemany(
                CONNECTION_SQL,
                [
                    (Network.IRC, status.irc.state, status.irc.as_of),
                    (Network.TELEGRAM, status.telegram.state, status.telegram.as_of),
                ],
            )
            await conn.execute("DELETE FROM chat_status")
            await conn.executemany(
                "INSERT INTO chat_status (network, chat, position, state) VALUES (?, ?, ?, ?)",
                [
                    (network, chat, i, state)
                    for network, chats in (
                        (Network.IRC, status.irc_channels),
                        (Network.TELEGRAM, status.waiting_topics),
                    )
                    for i, (chat, state) in enumerate(chats)
                ],
            )

    async def stopped(self, at: float) -> None:
        """Both connections stopped at `at`, and no channel joined; the topics that refuse
        messages stay as they were (their messages still wait)."""
        async with self.db.transaction() as conn:
            await conn.executemany(
                CONNECTION_SQL,
                [(Network.IRC, "stopped", at), (Network.TELEGRAM, "stopped", at)],
            )
            await conn.execute("DELETE FROM chat_status WHERE network = ?", (Network.IRC,))

    async def read(self) -> BridgeStatus:
        connections = {
            str(r[0]): ConnectionStatus(str(r[1]), float(r[2]))
            for r in await self.db.fetchall("SELECT network, state, as_of FROM connection_status")
        }
        chats: dict[str, list[tuple[str, str]]] = {Network.IRC: [], Network.TELEGRAM: []}
        for r in await self.db.fetchall(
            "SELECT network, chat, state FROM chat_status ORDER BY network, position"
        ):
            chats.setdefault(str(r[0]), []).append((str(r[1]), str(r[2])))
        return BridgeStatus(
            irc=connections.get(Network.IRC, UNKNOWN),
            telegram=connections.get(Network.TELEGRAM, UNKNOWN),
            irc_channels=tuple(chats[Network.IRC]),
            waiting_topics=tuple(chats[Network.TELEGRAM]),
        )
