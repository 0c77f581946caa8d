"""`tgirc-bridge doctor`: check a config against the real networks, without relaying.

Each network is probed by its own connector's probe (bridge/telegram/probe.py,
bridge/irc/probe.py), [web] and [mail] here (web.py, mail.py); they run at once, each
bounded, so one slow network does not hide the others' results, and the lines come out in a
fixed order (Telegram, IRC, web, mail). Nothing here touches a running bridge: no
getUpdates, a nick of its own, no instance lock, no database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bridge.checks import Check, failed
from bridge.config_model import Config
from bridge.doctor.report import exit_status, render
from bridge.doctor.web import probe_web
from bridge.irc.probe import probe_irc
from bridge.telegram.probe import probe_telegram

STEP = 10.0
"""Seconds each step of a probe may take (one connect, one call, one JOIN)."""


async def _bounded(name: str, probe: Awaitable[list[Check]], limit: float) -> list[Check]:
    """A probe's lines, or one line saying it did not finish (or broke) in time."""
    try:
        async with asyncio.timeout(limit):
            return await probe
    except TimeoutError:
        return [failed(f"{name}: no answer within {limit:.0f}s")]
    except Exception as exc:  # one broken probe must not hide the others' results
        return [failed(f"{name}: the check itself failed ({type(exc).__name__})")]


async def diagnose(config: Config, step: float = STEP) -> list[Check]:
    """Every check, in a stable order."""
    channels = [(pair.irc_channel, pair.irc_key) for pair in config.bridges]
    # The IRC probe has a step per channel besides connect, register, login and quit.
    irc_limit = step * (len(channels) + 4)
    probes: list[tuple[str, Callable[[], Awaitable[list[Check]]], float]] = [
        (
            "telegram",
            lambda: probe_telegram(
                config.telegram, config.bridges, reactions=config.relay.reactions
            ),
            step * 3,
        ),
        ("irc", lambda: probe_irc(config.irc, channels, step), irc_limit),
    ]
    if config.web is not None:
        web = config.web
        probes.append(("web", lambda: probe_web(web, step), step * 2))
    if config.mail is not None:
        from bridge.doctor.mail import probe_mail  # aiosmtplib only with [mail]

        mail = config.mail
        probes.append(("mail", lambda: probe_mail(mail), mail.timeout * 6 + step))
    results = await asyncio.gather(*(_bounded(name, make(), limit) for name, make, limit in probes))
    return [check for lines in results for check in lines]


async def doctor(config: Config, step: float = STEP) -> int:
    """Print one line per check; 0 when all pass, 1 otherwise."""
    checks = await diagnose(config, step)
    for line in render(checks, config.secrets()):
        print(line, flush=True)
    return exit_status(checks)
