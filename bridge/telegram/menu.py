"""Telegram's command menu: setMyCommands once for the default language and once per
shipped language (with its language_code), each description translated; the command names
stay English, as typed on both networks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import telegram
from telegram import error as tg_error

from bridge.i18n import shipped, translations

log = logging.getLogger(__name__)

MENU_TIMEOUT = 30.0
"""Each setMyCommands may take this long; the menu is a convenience, never waited on."""
DESCRIPTION_MAX = 256
"""The Bot API's limit on a command's description, in characters."""


def menus(
    commands: Sequence[tuple[str, str]], default_language: str
) -> list[tuple[str | None, list[telegram.BotCommand]]]:
    """(language_code or None for the default, the menu) for each call to make: commands
    are (name, English description) pairs."""
    out: list[tuple[str | None, list[telegram.BotCommand]]] = []
    codes: list[str | None] = [None]
    for language in shipped():
        code = language.split("_")[0]  # Telegram names a language by its two letters
        if code not in codes and language == code:
            codes.append(code)
    for wanted in codes:
        tr = translations(default_language if wanted is None else wanted)
        menu = [
            telegram.BotCommand(name, tr.gettext(description)[:DESCRIPTION_MAX])
            for name, description in commands
        ]
        out.append((wanted, menu))
    return out


async def publish_menu(
    bot: telegram.Bot, commands: Sequence[tuple[str, str]], default_language: str
) -> None:
    """Set every menu; a refusal or a timeout is logged and the rest go on."""
    for code, menu in menus(commands, default_language):
        try:
            await asyncio.wait_for(bot.set_my_commands(menu, language_code=code), MENU_TIMEOUT)
        except (tg_error.TelegramError, TimeoutError) as exc:
            log.warning("Telegram: the command menu (%s) was not set: %s", code or "default", exc)
