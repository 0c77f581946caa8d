"""Who may query the roster (issue 9, case 5), fast: bridge.audience, the registry's check,
and the Telegram membership lookup against the fake Bot API through real PTB.

The roster is for the community: people in a bridged group or channel (asked there, or
privately while they are in one), members and moderators. Not a stranger who opens a
private chat with the bot, not an unbridged group the bot was added to. End to end, with
a real ircd: test_e2e_hostile_senders.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import telegram
from telegram.request import HTTPXRequest

from bridge.audience import Audience
from bridge.config import BridgePair
from bridge.model import ChatId, ChatRef, Network
from bridge.pairs import Pairs
from bridge.telegram.membership import Membership
from handlers.registry import CommandRegistry, build_registry
from storage.roster_store import RosterStore, identity_from_author
from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.handlers import (
    IRC_CHANNEL,
    TG_GROUP,
    FakeIrc,
    FakeTelegramSide,
    irc_author,
    make_ctx,
    tg_author,
)

ALICE = tg_author(1001, "Alice Liddell", "alice")
BOB = irc_author("bob", account=None)
TG_PRIVATE = ChatRef(Network.TELEGRAM, ChatId(ALICE.user_id), is_private=True)
IRC_PRIVATE = ChatRef(Network.IRC, ChatId("bob"), is_private=True)
UNBRIDGED_GROUP = ChatRef(Network.TELEGRAM, ChatId("-1009999"), title="Elsewhere")
REFUSED = (
    "Sorry, I answer {p}{name} only in the bridged group or channel, "
    "or privately to the people in it."
)


def audience(store: RosterStore, irc: FakeIrc, tg: FakeTelegramSide) -> Audience:
    pair = BridgePair(int(TG_GROUP.chat_id), IRC_CHANNEL.chat_id)
    return Audience(Pairs([pair]), [IRC_CHANNEL.chat_id], store, irc, tg)


# ------------------------------------------------------------------ bridge.audience


async def test_in_a_group_only_a_bridged_one_counts(store: RosterStore) -> None:
    irc, tg = FakeIrc(), FakeTelegramSide()
    who = audience(store, irc, tg)
    assert await who.includes(TG_GROUP, ALICE, moderator=False)
    assert await who.includes(IRC_CHANNEL, BOB, moderator=False)
    assert not await who.includes(UNBRIDGED_GROUP, ALICE, moderator=False)
    assert not await who.includes(UNBRIDGED_GROUP, ALICE, moderator=True)  # answers reach all
    assert tg.membership_asked == []  # typed in the group: plainly in it


async def test_privately_on_telegram_people_in_the_group_members_and_moderators(
    store: RosterStore,
) -> None:
    irc, tg = FakeIrc(), FakeTelegramSide()
    who = audience(store, irc, tg)
    assert not await who.includes(TG_PRIVATE, ALICE, moderator=False)
    assert tg.membership_asked == [(TG_GROUP.chat_id, ALICE.user_id)]
    assert await who.includes(TG_PRIVATE, ALICE, moderator=True)
    tg.in_group[TG_GROUP.chat_id] = {ALICE.user_id}
    assert await who.includes(TG_PRIVATE, ALICE, moderator=False)
    carol = tg_author(1003, "Carol", "carol")
    await store.join(identity_from_author(carol))
    tg.membership_asked.clear()
    assert await who.includes(TG_PRIVATE, carol, moderator=False)  # a member, wherever she is
    assert tg.membership_asked == []


async def test_privately_on_irc_sharing_a_bridged_channel_or_membership(
    store: RosterStore,
) -> None:
    irc, tg = FakeIrc(), FakeTelegramSide()
    who = audience(store, irc, tg)
    irc.members["#elsewhere"] = ["bob"]
    assert not await who.includes(IRC_PRIVATE, BOB, moderator=False)
    irc.members[IRC_CHANNEL.chat_id] = ["alice", "BOB"]  # IRC case-insensitive
    assert await who.includes(IRC_PRIVATE, BOB, moderator=False)
    dave = irc_author("dave", account="dave")
    assert not await who.includes(IRC_PRIVATE, dave, moderator=False)
    await store.join(identity_from_author(dave))
    assert await who.includes(IRC_PRIVATE, dave, moderator=False)
    assert not await who.includes(IRC_PRIVATE, irc_author("", account=None), moderator=False)


# --------------------------------------------------------------------- the registry


@pytest.mark.parametrize(
    ("network", "line"),
    [
        (Network.TELEGRAM, "whois python"),
        (Network.TELEGRAM, "members"),
        (Network.TELEGRAM, "join"),
        (Network.TELEGRAM, "interests rust"),
        (Network.TELEGRAM, "leave"),
        (Network.TELEGRAM, "names"),
        (Network.TELEGRAM, "link"),
        (Network.IRC, "whois python"),
        (Network.IRC, "members"),
        (Network.IRC, "join"),
        (Network.IRC, "link"),
    ],
)
async def test_a_stranger_gets_one_sentence_and_nothing_else(
    registry: CommandRegistry, store: RosterStore, network: Network, line: str
) -> None:
    author = ALICE if network is Network.TELEGRAM else BOB
    ctx, rec = make_ctx(store, author, private=True, community=False)
    name, _, args = line.partition(" ")
    await registry.dispatch(ctx, name, args)
    p = "/" if network is Network.TELEGRAM else "!"
    assert rec.replies == [REFUSED.format(p=p, name=name)]
    assert rec.private == [] and rec.files == []
    assert (await store.stats()).member_count == 0


async def test_help_and_start_answer_anyone_without_asking(
    registry: CommandRegistry, store: RosterStore
) -> None:
    for command in ("help", "start", "help whois"):
        ctx, rec = make_ctx(store, ALICE, private=True, community=False)
        name, _, args = command.partition(" ")
        await registry.dispatch(ctx, name, args)
        assert rec.replies and not rec.replies[0].startswith("Sorry"), command
        assert rec.community_checks == 0


async def test_a_link_code_is_the_proof(registry: CommandRegistry, store: RosterStore) -> None:
    """A stranger cannot ask for a code, but may redeem one a member of the community made."""
    member = tg_author(1005, "Erin", "erin")
    made = await store.create_link_code(identity_from_author(member), join=True)
    ctx, rec = make_ctx(store, BOB, private=True, community=False)
    await registry.dispatch(ctx, "link", made.code)
    assert rec.replies == [
        "Linked: Telegram: Erin (@erin); IRC: bob (unverified) are now one member."
    ]


async def test_the_community_is_asked_after_the_rate_limit(store: RosterStore) -> None:
    strict = build_registry(commands_per_minute=1)
    ctx, rec = make_ctx(store, ALICE, private=True, community=False)
    for _ in range(3):
        await strict.dispatch(ctx, "whois", "x")
    assert rec.community_checks == 1  # the second is warned, the third silent: no lookups


async def test_a_failing_check_refuses(registry: CommandRegistry, store: RosterStore) -> None:
    ctx, rec = make_ctx(store, ALICE, private=True)

    async def broken() -> bool:
        raise RuntimeError("lookup failed")

    await registry.dispatch(replace(ctx, in_community=broken), "members", "")
    assert rec.replies == [REFUSED.format(p="/", name="members")]


# ---------------------------------------------------- Telegram: getChatMember via PTB

GROUP = -1001234567890
ANN, BEN = TgUser(42, "Ann"), TgUser(43, "Ben")
PEOPLE = {
    "member": TgUser(50, "Mia"),
    "restricted": TgUser(51, "Rita"),
    "restricted_left": TgUser(52, "Rob"),
    "left": TgUser(53, "Leo"),
    "kicked": TgUser(54, "Kim"),
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as f:
        f.add_chat(GROUP, title="Bridge", administrators=[ANN, BEN])  # Ann created it
        for status, user in PEOPLE.items():
            f.add_member(GROUP, user, status)
        yield f


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    request = HTTPXRequest(read_timeout=5.0, connect_timeout=2.0)
    async with telegram.Bot(fake.token, base_url=fake.api_url, request=request) as b:
        yield b


async def test_who_telegram_says_is_in_the_group(fake: FakeTelegram, bot: telegram.Bot) -> None:
    membership = Membership(bot)
    found = {
        user.first_name: await membership.is_member(str(GROUP), str(user.id))
        for user in (ANN, BEN, *PEOPLE.values(), TgUser(99, "Nobody"))
    }
    assert found == {
        "Ann": True,  # creator
        "Ben": True,  # administrator
        "Mia": True,
        "Rita": True,  # restricted, but in the group
        "Rob": False,  # restricted and not in the group
        "Leo": False,
        "Kim": False,
        "Nobody": False,  # "user not found"
    }


async def test_answers_are_remembered_briefly_and_faults_are_not(
    fake: FakeTelegram, bot: telegram.Bot
) -> None:
    now = [0.0]
    membership = Membership(bot, ttl=120.0, clock=lambda: now[0])
    mia = str(PEOPLE["member"].id)
    assert await membership.is_member(str(GROUP), mia)
    assert await membership.is_member(str(GROUP), mia)
    assert fake.calls.count("getChatMember") == 1
    fake.add_member(GROUP, PEOPLE["member"], "left")
    now[0] = 121.0
    assert not await membership.is_member(str(GROUP), mia)  # left: a stranger again
    fake.add_member(GROUP, PEOPLE["member"], "member")
    now[0] = 300.0
    fake.fail_next("getChatMember", kind="502")
    assert not await membership.is_member(str(GROUP), mia)  # cannot tell: refused ...
    assert await membership.is_member(str(GROUP), mia)  # ... and asked again next time
    assert fake.calls.count("getChatMember") == 4


async def test_an_answer_ptb_cannot_read_refuses_and_does_not_crash(
    fake: FakeTelegram, bot: telegram.Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """An older self-hosted Bot API leaves out fields PTB 22.8 requires: refused, logged."""
    fake.add_member(GROUP, PEOPLE["restricted"], "restricted_old_api")
    assert not await Membership(bot).is_member(str(GROUP), str(PEOPLE["restricted"].id))
    assert "cannot read getChatMember's answer" in caplog.text
