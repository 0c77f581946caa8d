"""Members for the digest's tests, written the way the bridge writes them (the roster's
stores), and the configuration that sends the digest to a test SMTP server."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.model import Network
from storage import member_rows
from storage.db import Database
from storage.directory import DirectoryStore
from storage.roster_model import Identity
from storage.roster_store import RosterStore
from storage.seen_channels import SeenChannelStore
from tests.support.smtp import SmtpServer

LIST = "volunteer-supporters@lists.example.org"
SECOND = "archive@example.org"

ALICE = Identity(Network.TELEGRAM, "1001", "Alice Liddell", "alice_tg", True)
ALICE_IRC = Identity(Network.IRC, "account:alicew", "alicew", "alicew", True)
BOB = Identity(Network.IRC, "account:bobby", "bobby", "bobby", True)
CAROL = Identity(Network.TELEGRAM, "1003", "Carol Sölvberg", "carol_s", True)
SECRET = Identity(Network.TELEGRAM, "1666", "Zed Hiddenperson", "zed_hidden", True)
SECRET_TAGS = ("underwater-basket-weaving", "lockpicking")


async def add_member(
    db: Database,
    identities: Sequence[Identity],
    interests: Sequence[str],
    *,
    listed: bool,
    channels: Sequence[str] = (),
) -> int:
    """A member with these identities (the first joins with the interests, the others are
    linked to it), listed or not, whose IRC identity was seen in channels."""
    roster = RosterStore(db)
    first, *others = identities
    await roster.join_with_interests(first, list(interests), edit=False)
    member = await roster.get_member_by_identity(first.network, first.key)
    assert member is not None
    for identity in others:
        async with db.transaction() as conn:
            await member_rows.insert_identity(conn, member.id, identity, member.joined_at)
    await DirectoryStore(db).set_listed(first, listed)
    seen = SeenChannelStore(db)
    for identity in identities:
        for channel in channels if identity.network is Network.IRC else ():
            await seen.record(identity.key, channel)
    return member.id


def digest_tables(server: SmtpServer, every_hours: float = 168.0, **mail: object) -> str:
    """[mail] for server and a [digest] to two addresses."""
    return (
        server.mail_table(**mail)
        + f'[digest]\nto = ["{LIST}", "{SECOND}"]\nevery_hours = {every_hours}\n'
    )
