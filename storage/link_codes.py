"""/link codes: one identity asks for a short-lived code, its other identity redeems it, and
the two members become one."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass

import aiosqlite

from bridge.i18n import N_, TranslatableError
from bridge.model import Network
from storage import member_rows
from storage.db import Database
from storage.roster_model import MAX_INTERESTS, Identity, Member

log = logging.getLogger(__name__)

LINK_CODE_TTL = 600.0
LINK_CODE_LENGTH = 6
LINK_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/I/L: a code read aloud or retyped on the other network survives."""


class LinkError(TranslatableError):
    """A /link code that cannot be redeemed; exc.said(tr) is shown to the user."""


@dataclass(frozen=True, slots=True)
class LinkCode:
    code: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class Linked:
    """A redeemed code: the merged member, and whether linking took it out of the web
    directory (either side was listed; migration 0012's triggers unlist it)."""

    member: Member
    unlisted: bool


async def create_link_code(
    db: Database, identity: Identity, now: float, *, join: bool, per_host: int | None = None
) -> LinkCode:
    """A fresh one-time code for this identity; an older code of it is replaced.

    join=True joins the identity first in the same transaction (/link from someone not
    yet a member, within the per_host quota); otherwise a stranger is a LookupError.
    """
    async with db.transaction() as conn:
        if join:
            await member_rows.join_member(conn, identity, now, per_host=per_host)
        identity_id = await member_rows.identity_id(conn, identity)
        if identity_id is None:
            raise LookupError("identity is not a member")
        await conn.execute("DELETE FROM link_codes WHERE expires_at <= ?", (now,))
        await conn.execute("DELETE FROM link_codes WHERE identity_id = ?", (identity_id,))
        while True:
            code = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))
            async with conn.execute("SELECT 1 FROM link_codes WHERE code = ?", (code,)) as cur:
                if await cur.fetchone() is None:
                    break
        expires = now + LINK_CODE_TTL
        await conn.execute(
            "INSERT INTO link_codes (code, identity_id, expires_at) VALUES (?, ?, ?)",
            (code, identity_id, expires),
        )
    return LinkCode(code, expires)


async def discard_link_code(db: Database, code: str) -> bool:
    """Void a code that was shown in public, before a bystander can redeem it."""
    async with db.transaction() as conn:
        cur = await conn.execute(
            "DELETE FROM link_codes WHERE code = ?", ("".join(code.split()).upper(),)
        )
        return cur.rowcount > 0


async def redeem_link_code(db: Database, code: str, identity: Identity, now: float) -> Linked:
    """Merge identity's member (if any) into the code owner's member; LinkError otherwise.

    The merged member is never listed: a listed member who links must say /listed yes again
    before the new identity is published."""
    code = "".join(code.split()).upper()
    if len(code) != LINK_CODE_LENGTH or any(c not in LINK_CODE_ALPHABET for c in code):
        raise LinkError(
            # Translators: %(length)d is how many characters a /link code has.
            N_("That is not a link code: codes are %(length)d characters."),
            length=LINK_CODE_LENGTH,
        )
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT i.member_id, i.network, c.expires_at FROM link_codes c "
            "JOIN identities i ON i.id = c.identity_id WHERE c.code = ?",
            (code,),
        ) as cur:
            row = await cur.fetchone()
        if row is None or float(row[2]) <= now:
            raise LinkError(N_("That code is unknown or has expired: ask for a new one."))
        target, source_network = int(row[0]), Network(row[1])
        if source_network is identity.network:
            raise LinkError(
                # Translators: %(network)s is Telegram or IRC.
                N_("That code was made on %(network)s: send it from your other network."),
                network=_network_name(source_network),
            )
        target_networks = await member_rows.member_networks(conn, target)
        own = await member_rows.update_names(conn, identity, now)
        if own == target:
            raise LinkError(N_("These two are already linked."))
        if own is None:
            if identity.network.value in target_networks:
                raise _taken(identity.network)
            was_listed = await _any_listed(conn, target)
            await member_rows.insert_identity(conn, target, identity, now)
        else:
            if target_networks & await member_rows.member_networks(conn, own):
                raise _taken(identity.network)
            was_listed = await _any_listed(conn, target, own)
            await _merge(conn, own, target)
        await conn.execute("DELETE FROM link_codes WHERE code = ?", (code,))
        member = await member_rows.load_member(conn, target)
    log.info("linked identities into member %d", member.id)
    return Linked(member, unlisted=was_listed)


async def _any_listed(conn: aiosqlite.Connection, *member_ids: int) -> bool:
    """Whether one of these members is in the web directory (before the link unlists it)."""
    async with conn.execute(
        "SELECT 1 FROM members WHERE listed = 1 AND id IN (SELECT value FROM json_each(?))",
        (json.dumps(member_ids),),
    ) as cur:
        return await cur.fetchone() is not None


async def _merge(conn: aiosqlite.Connection, source: int, target: int) -> None:
    """Move source's identities to target, union interests, keep the earliest joined_at."""
    tags = list(
        dict.fromkeys(
            [
                *await member_rows.member_tags(conn, target),
                *await member_rows.member_tags(conn, source),
            ]
        )
    )
    await conn.execute(
        "UPDATE members SET joined_at = MIN(joined_at, "
        "(SELECT joined_at FROM members WHERE id = ?)) WHERE id = ?",
        (source, target),
    )
    await conn.execute("UPDATE identities SET member_id = ? WHERE member_id = ?", (target, source))
    await conn.execute("DELETE FROM members WHERE id = ?", (source,))
    await member_rows.replace_tags(conn, target, tags[:MAX_INTERESTS])


def _network_name(network: Network) -> str:
    return "Telegram" if network is Network.TELEGRAM else "IRC"


def _taken(network: Network) -> LinkError:
    if network is Network.TELEGRAM:
        return LinkError(
            N_("That member already has a Telegram identity; a member has at most one per network.")
        )
    return LinkError(
        N_("That member already has an IRC identity; a member has at most one per network.")
    )
