"""The explicit list of commands and the one error boundary every command runs inside.

dispatch() checks, in order: the per-invoker rate limit (silence beyond it), that a person
sent it (not a post as a channel or anonymous admin), that the command exists, that the
invoker is of the community (unless the command is open to anyone), the moderator role
(default deny); then runs the handler and turns UsageError / PermissionDenied into replies
and anything else into a logged reference.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence

from bridge.errors import PermissionDenied, UsageError
from bridge.identity import limit_key
from handlers import asking, language, linking, listing, moderation, names, roster_commands
from handlers.context import CommandContext
from handlers.help import START_SPEC, help_spec
from handlers.rate_limit import PerMinute
from handlers.replies import community_only, not_a_person, prefix_for, quote, usage_line
from handlers.spec import CommandSpec

log = logging.getLogger(__name__)


class CommandRegistry:
    """Runs commands by name; never raises, so one bad command cannot hurt the relay."""

    def __init__(
        self,
        specs: Sequence[CommandSpec],
        commands_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._specs = tuple(specs)
        self._by_name = {s.name: s for s in self._specs}
        if len(self._by_name) != len(self._specs):
            raise ValueError("duplicate command names")
        self._recent = PerMinute(commands_per_minute, clock)
        self._warned = PerMinute(1, clock)
        self.commands_per_minute = self._recent.limit

    @property
    def specs(self) -> tuple[CommandSpec, ...]:
        """The commands /help lists, in its order."""
        return tuple(s for s in self._specs if not s.hidden)

    def knows(self, name: str) -> bool:
        return name.lower() in self._by_name

    def get(self, name: str) -> CommandSpec | None:
        return self._by_name.get(name.lower())

    def _allow(self, key: tuple[str, str]) -> bool | None:
        """True: run. False: over the limit, warn once. None: over the limit, stay silent."""
        if self._recent.allow(key):
            return True
        return False if self._warned.allow(key) else None

    async def dispatch(self, ctx: CommandContext, name: str, args: str) -> None:
        """Run one command for ctx; every failure becomes a reply or a log line, never a raise."""
        key = limit_key(ctx.invoker)
        allowed = self._allow(key)
        if allowed is None:
            log.info("rate limit: dropped %s from %s", name, key)
            return
        _ = ctx.tr.gettext
        if allowed is False:
            n = self.commands_per_minute
            # Translators: the answer to a person who sends commands too fast.
            text = ctx.tr.ngettext(
                "Slow down, please: at most %(n)d command a minute.",
                "Slow down, please: at most %(n)d commands a minute.",
                n,
            )
            await _safe_reply(ctx, text % {"n": n})
            return
        if ctx.invoker.posted_as is not None:
            await _safe_reply(ctx, not_a_person(ctx))
            return
        spec = self.get(name)
        if spec is None:
            # Translators: %(name)s is what the person typed, quoted; %(help)s is /help or !help.
            text = _("There is no command %(name)s. %(help)s lists them all.")
            await _safe_reply(ctx, text % {"name": quote(name), "help": prefix_for(ctx) + "help"})
            return
        if not spec.open_to_anyone and not await _in_community(ctx):
            await _safe_reply(ctx, community_only(ctx, spec.name))
            return
        if spec.moderator_only and not ctx.is_moderator:
            # Translators: %(command)s is a command as typed, e.g. /export.
            text = _("Sorry, %(command)s is for moderators only.")
            await _safe_reply(ctx, text % {"command": prefix_for(ctx) + spec.name})
            return
        try:
            await spec.handler(ctx, args)
        except UsageError as exc:
            await _safe_reply(ctx, str(exc) or usage_line(ctx, spec))
        except PermissionDenied as exc:
            await _safe_reply(ctx, str(exc) or _("Sorry, you may not do that."))
        except Exception:
            ref = secrets.token_hex(3)
            log.exception("command %s failed (ref %s)", spec.name, ref)
            # Translators: %(ref)s is a reference the operator finds in the logs.
            await _safe_reply(ctx, _("Sorry, that failed. (ref %(ref)s)") % {"ref": ref})


async def _in_community(ctx: CommandContext) -> bool:
    """Default deny: a failed check refuses (and is logged), it never lets a stranger in."""
    try:
        return await ctx.in_community()
    except Exception:
        log.exception("could not tell whether %s may see the roster", ctx.invoker.user_id)
        return False


async def _safe_reply(ctx: CommandContext, text: str) -> None:
    try:
        await ctx.reply(text)
    except Exception:
        log.exception("could not deliver a command reply")


def build_registry(commands_per_minute: int) -> CommandRegistry:
    """Every command the bot knows, in the order /help lists them."""
    specs: list[CommandSpec] = []
    specs.append(help_spec(specs))  # /help reads this same list, so it sees every command
    specs += [
        *roster_commands.SPECS[:4],
        names.SPEC,
        *roster_commands.SPECS[4:],
        linking.SPEC,
        listing.SPEC,
        asking.ASKME_SPEC,
        asking.ASK_SPEC,
        language.SPEC,
        *moderation.SPECS,
    ]
    return CommandRegistry([*specs, START_SPEC], commands_per_minute)
