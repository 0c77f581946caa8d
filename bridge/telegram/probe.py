"""What `tgirc-bridge doctor` asks the Bot API: read-only calls, never getUpdates.

A running bridge polls with the same token; getUpdates from here would take its updates
(409 Conflict for one of the two), so only getMe, getWebhookInfo, getChat and
getChatMember are called, on an HTTP client of their own. No line names the token: the
errors come through AiohttpRequest, which redacts Bot API URLs, and Bot.initialize() (whose
InvalidToken text quotes the token) is never called.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Sequence

import httpx
from telegram import Bot, ChatMember
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError, TimedOut

from bridge.checks import Check, failed, passed
from bridge.config_model import BridgePair, TelegramConfig
from bridge.display_names import clean_name
from bridge.telegram.http import bot_of_its_own, redact

PRIVACY_ON = (
    "telegram: privacy mode is on: the bot sees only commands; in @BotFather /setprivacy → "
    "Disable, then remove and re-add the bot"
)
GROUP_TYPES = ("group", "supergroup")
UNREADABLE = (TypeError, KeyError, ValueError)
"""PTB 22.8 raises these on an answer that lacks a field it requires (PITFALLS.md)."""
OLD_API = "the answer lacks fields python-telegram-bot needs (a self-hosted Bot API too old?)"


async def probe_telegram(
    config: TelegramConfig, pairs: Sequence[BridgePair], *, reactions: bool
) -> list[Check]:
    """getMe, privacy mode, webhook, then each bridged chat (in config order)."""
    request, bot = bot_of_its_own(config, httpx.create_ssl_context(), 4)
    await request.initialize()
    try:
        return await _probe(bot, config, pairs, reactions)
    finally:
        await request.shutdown()


async def _probe(
    bot: Bot, config: TelegramConfig, pairs: Sequence[BridgePair], reactions: bool
) -> list[Check]:
    where = urllib.parse.urlsplit(config.api_url).netloc or config.api_url
    try:
        me = await bot.get_me()
    except InvalidToken:
        return [failed("telegram: the Bot API refuses the token: check telegram.token")]
    except TimedOut:
        return [failed(f"telegram: the Bot API at {where} does not answer: check the network")]
    except TelegramError as exc:
        why = redact(str(exc))
        return [
            failed(
                f"telegram: the Bot API at {where} is unreachable ({why}): check "
                "telegram.api_url and the network"
            )
        ]
    checks = [passed(f"telegram: Bot API reachable, token valid (@{me.username})")]
    if me.can_read_all_group_messages:
        checks.append(passed("telegram: privacy mode is off: the bot sees every group message"))
    else:
        checks.append(failed(PRIVACY_ON))
    chats: dict[int, list[BridgePair]] = {}
    for pair in pairs:
        chats.setdefault(pair.telegram_chat, []).append(pair)
    webhook, per_chat = await asyncio.gather(
        _webhook(bot),
        asyncio.gather(
            *(_chat(bot, me.id, chat, chat_pairs, reactions) for chat, chat_pairs in chats.items())
        ),
    )
    checks.append(webhook)
    for lines in per_chat:
        checks.extend(lines)
    return checks


async def _webhook(bot: Bot) -> Check:
    try:
        info = await bot.get_webhook_info()
    except TelegramError as exc:
        return failed(f"telegram: getWebhookInfo failed ({redact(str(exc))})")
    if info.url:
        host = urllib.parse.urlsplit(info.url).netloc or "?"
        return failed(
            f"telegram: a webhook is set (to {host}), so the bridge cannot poll: remove it "
            "with the Bot API's deleteWebhook"
        )
    return passed("telegram: no webhook set")


async def _chat(
    bot: Bot, bot_id: int, chat_id: int, pairs: list[BridgePair], reactions: bool
) -> list[Check]:
    try:
        chat = await bot.get_chat(chat_id)
    except (BadRequest, Forbidden) as exc:
        return [
            failed(
                f"telegram: the bot is not in {chat_id} or it does not exist "
                f"({redact(exc.message)}): add the bot to the group, or correct [[bridge]] "
                "telegram_chat"
            )
        ]
    except TelegramError as exc:
        return [failed(f"telegram: getChat {chat_id} failed ({redact(str(exc))})")]
    except UNREADABLE as exc:
        return [failed(f"telegram: getChat {chat_id}: {OLD_API} ({type(exc).__name__})")]
    name = f"{chat_id} ({clean_name(chat.title)})" if chat.title else str(chat_id)
    if chat.type not in GROUP_TYPES:
        return [failed(f"telegram: {name} is a {chat.type}, not a group: bridge a group")]
    kind = "forum" if chat.is_forum else chat.type
    checks = [passed(f"telegram: {name} is a {kind}")]
    for pair in pairs:
        if pair.telegram_topic is not None and not chat.is_forum:
            checks.append(
                failed(
                    f"telegram: {name} is not a forum, but {pair.irc_channel} is paired with its "
                    f"topic {pair.telegram_topic}: turn Topics on in the group's settings, or "
                    "remove telegram_topic"
                )
            )
    checks.append(await _rights(bot, bot_id, chat_id, name, reactions))
    return checks


async def _rights(bot: Bot, bot_id: int, chat_id: int, name: str, reactions: bool) -> Check:
    try:
        member = await bot.get_chat_member(chat_id, bot_id)
    except TelegramError as exc:
        return failed(f"telegram: the bot's own rights in {name} unknown ({redact(str(exc))})")
    except UNREADABLE as exc:
        return failed(f"telegram: getChatMember in {name}: {OLD_API} ({type(exc).__name__})")
    if member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER):
        return passed(f"telegram: the bot is an administrator of {name}")
    if member.status in (ChatMember.LEFT, ChatMember.BANNED):
        return failed(f"telegram: the bot is not a member of {name}: add it to the group")
    if reactions:
        return failed(
            f"telegram: relay.reactions needs the bot to be an administrator of {name} "
            "(Telegram sends reactions to administrators only): promote it, or set "
            "relay.reactions = false"
        )
    return passed(f"telegram: the bot is a member of {name}")
