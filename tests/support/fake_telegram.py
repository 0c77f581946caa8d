"""A strict fake of the Telegram Bot API served over real HTTP on 127.0.0.1.

Why strict: a lenient fake hides the bugs that bite in production (acking updates before
handling them, unescaped HTML, over-long messages, 429 handling).  This fake follows
Telegram's documented rules where the bridge depends on them and is *stricter* where
Telegram is lenient but the docs say "must" (a bare ``&`` or ``>`` in HTML is rejected).

python-telegram-bot 22.8 talks to it unchanged::

    async with FakeTelegram() as fake:
        fake.add_chat(-100123, "supergroup", title="Bridge")
        bot = telegram.Bot(fake.token, base_url=fake.api_url, base_file_url=fake.file_url)
        fake.push_text(-100123, TgUser(42, "Ann"), "hi")
        # ... the bot under test relays it ...
        [msg] = await fake.wait_sent(lambda m: m.chat_id == -100123)

What PTB actually sends (read from its source): every call is a POST to
``/bot<TOKEN>/<method>``; without files the body is ``application/x-www-form-urlencoded``
where strings are sent as-is and every other value (ints, bools, lists, dicts such as
``reply_parameters``/``link_preview_options``/``allowed_updates``) is JSON-encoded; with
files it is ``multipart/form-data`` with the same encoding for the plain fields.  JSON
bodies and GET query strings are accepted too, as Telegram does.

Forum groups (``add_chat(..., is_forum=True)``) have topics: ``create_topic`` pushes the
``forum_topic_created`` service message whose id is the topic's ``message_thread_id``,
``edit_topic``/``close_topic``/``reopen_topic`` push theirs, ``delete_topic`` removes it
silently (as Telegram does), and ``push_*(..., topic=T)`` writes in a topic
(``message_thread_id``, ``is_topic_message``, and the creation message as
``reply_to_message``). A send with a ``message_thread_id`` that is not an open topic of a
forum is refused as Telegram does: "message thread not found" or "TOPIC_CLOSED".

Supported ``parse_mode``: absent (plain text + optional ``entities``) and ``HTML``.
``Markdown``/``MarkdownV2`` are rejected with a 400 ("not implemented by the fake") so a
test cannot silently pass on an unchecked format.
"""

# bounded `timeout=` parameters are this helper's API

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import math
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

from tests.support.ports import free_port

DEFAULT_TOKEN = "123456789:AAFakeTokenForLoopbackTests_0123456789"
MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
MAX_LONG_POLL = 50.0  # Telegram caps `timeout`; we also keep tests bounded

FaultKind = Literal["429", "400", "502", "hang", "hang_after", "drop"]
JSON = dict[str, Any]

# Update kinds Telegram does not deliver unless explicitly listed in allowed_updates.
_OPT_IN_KINDS = {"chat_member", "message_reaction", "message_reaction_count"}

_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")


class TelegramApiError(Exception):
    """Raised inside handlers to produce a Telegram-style error response."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(detail: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {detail}")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- data classes


@dataclass(frozen=True)
class TgUser:
    """A Telegram user for injected updates."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    is_bot: bool = False
    language_code: str | None = None

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data


@dataclass
class TgChat:
    """A chat the fake knows; sending to an unknown chat id gives "chat not found"."""

    id: int
    type: str = "supergroup"  # "private" | "group" | "supergroup" | "channel"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    member_count: int = 2
    administrators: list[TgUser] = field(default_factory=list)
    is_forum: bool = False
    """A supergroup with topics."""
    topics: dict[int, TgTopic] = field(default_factory=dict)
    """Its topics by message_thread_id (General, which has none, is not listed)."""
    members: dict[int, tuple[TgUser, str]] = field(default_factory=dict)
    """getChatMember's answer for people who are not administrators: user id → (user,
    status), status one of member, restricted, restricted_left (restricted with
    is_member false), left, kicked, or restricted_old_api (restricted as a Bot API older
    than PTB 22.8 sends it, without can_react_to_messages and can_edit_tag). Whoever writes
    in the group becomes a member."""

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name or "User"
        else:
            data["title"] = self.title or f"Chat {self.id}"
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class TgTopic:
    """A forum topic: its id is the message id of its forum_topic_created message."""

    thread_id: int
    name: str
    icon_color: int = 7322096
    closed: bool = False


@dataclass
class SentMessage:
    """One API call by the bot that the fake accepted (send*/edit*/delete*).

    ``text`` is the raw ``text``/``caption`` parameter as sent, ``visible_text`` what a
    Telegram user would see (HTML tags removed, entities unescaped), ``entities`` the
    entities Telegram would return.  ``time`` is ``time.monotonic()`` at acceptance.
    """

    method: str
    chat_id: int | str | None
    text: str | None
    parse_mode: str | None
    visible_text: str | None
    entities: list[JSON]
    message_id: int | None
    params: JSON
    time: float
    reply_to_message_id: int | None = None
    file_name: str | None = None
    file_bytes: bytes | None = None
    mime_type: str | None = None
    message_thread_id: int | None = None
    """The forum topic it was sent to (None: General, or a group without topics)."""


@dataclass
class Attempt:
    """Every HTTP request that reached the fake, including rejected ones.

    ``status`` is the HTTP status answered; 0 = no answer yet/never (a "hang" the client
    gave up on), -1 = connection dropped ("drop" fault).  ``fault`` names the injected
    fault, if any.  ``time`` is ``time.monotonic()`` when the request arrived.
    """

    method: str
    params: JSON
    time: float
    status: int = 0
    fault: str | None = None
    chat_id: int | str | None = None


@dataclass
class Pushed:
    """What a ``push_*`` helper queued: ids to refer to later (e.g. for replies)."""

    update_id: int
    message_id: int | None
    update: JSON


@dataclass
class _Fault:
    kind: FaultKind
    remaining: int
    retry_after: int
    hang_seconds: float


@dataclass
class _UploadedFile:
    file_name: str | None
    content: bytes
    content_type: str | None


# --------------------------------------------------------------------------- HTML parsing

_ALLOWED_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_START_TAG_RE = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z][a-zA-Z0-9_-]*(?:\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'|[^\s>\"'<]+))?)*)"
    r"\s*>"
)
_ATTR_RE = re.compile(
    r"([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?"
)
_END_TAG_RE = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_entity(match: re.Match[str]) -> str:
    name, dec, hexa = match.groups()
    if name:
        return _NAMED[name]
    code = int(dec) if dec else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise bad_request(f"can't parse entities: invalid character reference {match.group(0)}")
    return chr(code)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Parse Telegram HTML into (visible text, entities) or raise a 400.

    Stricter than Telegram where the Bot API docs say "must": every ``<``, ``>`` and ``&``
    that is not part of a tag or entity is an error.  Tags must be allowed and properly
    nested; ``span`` needs ``class="tg-spoiler"``; ``a`` needs ``href``; ``tg-emoji``
    needs ``emoji-id``.  Entity offsets/lengths are in UTF-16 code units.
    """
    out: list[str] = []
    out_len = 0  # utf-16 units emitted so far
    stack: list[tuple[str, JSON, int]] = []
    entities: list[JSON] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            match = _ENTITY_RE.match(text, i)
            if not match:
                raise bad_request(
                    "can't parse entities: unescaped '&' at byte offset "
                    f"{_byte_offset(text, i)} (use &amp;)"
                )
            decoded = _decode_entity(match)
            out.append(decoded)
            out_len += utf16_len(decoded)
            i = match.end()
        elif ch == ">":
            raise bad_request(
                f"can't parse entities: unescaped '>' at byte offset {_byte_offset(text, i)}"
            )
        elif ch == "<":
            offset = _byte_offset(text, i)
            if text.startswith("</", i):
                match = _END_TAG_RE.match(text, i)
                if not match:
                    raise bad_request(
                        "can't parse entities: Unexpected end of name token "
                        f"at byte offset {offset}"
                    )
                name = match.group(1).lower()
                if not stack:
                    raise bad_request(
                        f"can't parse entities: Unexpected end tag at byte offset {offset}"
                    )
                top, extra, start = stack.pop()
                if name != top:
                    raise bad_request(
                        f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                        f'expected "</{top}>", found "</{name}>"'
                    )
                if out_len > start:
                    entity: JSON = {"type": extra.pop("type"), "offset": start}
                    entity["length"] = out_len - start
                    entity.update(extra)
                    entities.append(entity)
                i = match.end()
            else:
                match = _START_TAG_RE.match(text, i)
                if not match:
                    raise bad_request(
                        f"can't parse entities: Unsupported start tag at byte offset {offset}"
                    )
                name = match.group(1).lower()
                if name not in _ALLOWED_TAGS:
                    raise bad_request(
                        f'can\'t parse entities: Unsupported start tag "{name}" '
                        f"at byte offset {offset}"
                    )
                attrs = {
                    m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
                    for m in _ATTR_RE.finditer(match.group(2))
                }
                extra = {"type": _ALLOWED_TAGS[name]}
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise bad_request(
                        'can\'t parse entities: Tag "span" must have class "tg-spoiler" '
                        f"at byte offset {offset}"
                    )
                if name == "a":
                    href = attrs.get("href", "")
                    if not href:
                        raise bad_request(
                            f"can't parse entities: a tag without href at byte offset {offset}"
                        )
                    extra["url"] = href
                if name == "tg-emoji":
                    if "emoji-id" not in attrs:
                        raise bad_request(
                            'can\'t parse entities: Tag "tg-emoji" must have attribute '
                            f'"emoji-id" at byte offset {offset}'
                        )
                    extra["custom_emoji_id"] = attrs["emoji-id"]
                if name == "blockquote" and "expandable" in attrs:
                    extra["type"] = "expandable_blockquote"
                if name == "code" and stack and stack[-1][0] == "pre":
                    lang = attrs.get("class", "")
                    if lang.startswith("language-"):
                        stack[-1][1]["language"] = lang[len("language-") :]
                stack.append((name, extra, out_len))
                i = match.end()
        else:
            out.append(ch)
            out_len += utf16_len(ch)
            i += 1
    if stack:
        raise bad_request(
            "can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1][0]}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# --------------------------------------------------------------------------- parameters


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise bad_request(f"invalid {name}")
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise bad_request(f"invalid {name} specified") from None


def _as_json(value: Any) -> Any:
    """Structured params arrive JSON-encoded in form bodies; plain in JSON bodies."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse JSON parameter {value[:40]!r}") from None
    return value


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in {"true", "1"}
    return bool(value)


def _chat_id(value: Any) -> int | str:
    if value is None or value == "":
        raise bad_request("chat_id is empty")
    if isinstance(value, str) and value.startswith("@"):
        return value
    return _as_int(value, "chat_id")


_NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)

_NO_OP_METHODS = {
    "deletemycommands",
    "setmydescription",
    "setmyshortdescription",
    "setmyname",
    "setchatmenubutton",
    "setmydefaultadministratorrights",
    "close",
    "logout",
    "sendchataction",
    "setmessagereaction",
    "answercallbackquery",
    "leavechat",
    "pinchatmessage",
    "unpinchatmessage",
}


class FakeTelegram:
    """The fake Bot API server.  See the module docstring for the rules it enforces.

    Public state for assertions: :attr:`sent` (accepted send/edit/delete calls),
    :attr:`attempts` (every request, with status and injected fault), :attr:`calls`
    (method name per request), :attr:`allowed_updates` (last value sent by the bot),
    :attr:`confirmed_offset` (the highest ``offset`` the bot confirmed).
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "BridgeBot",
        bot_first_name: str = "Bridge",
        chats: Iterable[TgChat] = (),
        first_update_id: int = 1000,
        max_long_poll: float = MAX_LONG_POLL,
        conflict: Literal["terminate_older", "reject_newer"] = "terminate_older",
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.host = host
        self.port: int | None = None
        self.bot_user = TgUser(
            int(token.split(":", 1)[0]), bot_first_name, username=bot_username, is_bot=True
        )
        self.chats: dict[int, TgChat] = {c.id: c for c in chats}
        self.max_long_poll = max_long_poll
        self.conflict_policy = conflict
        self.sent: list[SentMessage] = []
        self.attempts: list[Attempt] = []
        self.allowed_updates: list[str] | None = None
        self.my_commands: dict[str, list[JSON]] = {}
        """setMyCommands' menus by language_code ("" for the default), as the bot set them."""
        self.confirmed_offset = 0
        self.conflicts = 0
        self.files: dict[str, _UploadedFile] = {}
        self._updates: deque[JSON] = deque()
        self._unfiltered: set[int] = set()
        """Update ids delivered whatever ``allowed_updates`` says (see ``push_update``)."""
        self._next_update_id = first_update_id
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._messages: dict[tuple[int, int], JSON] = {}
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._slow: dict[str, float] = {}
        """Method (lower case, or "file" for downloads) → seconds every answer is held."""
        self._rate_limit: tuple[int, float] | None = None
        self._rate_history: dict[int | str, deque[float]] = defaultdict(deque)
        self._consumed_sent: set[int] = set()
        self._changed = asyncio.Condition()
        self._stopping = asyncio.Event()
        self._poller: asyncio.Future[None] | None = None
        self._long_polls = 0
        self._held: dict[str, int] = defaultdict(int)
        """Answers now held by slow(), by method (lower case, or "file")."""
        """getUpdates requests now waiting for an update (see wait_long_poll)."""
        self._file_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._bg_tasks: set[asyncio.Task[None]] = set()
        self._seen_users: set[int] = set()
        """Users who wrote anywhere: getChatMember says "left" of them, not "user not found"."""
        self.reads_all_group_messages = False
        """getMe's can_read_all_group_messages: False is privacy mode on, BotFather's default."""
        self.webhook_url = ""
        """Set by setWebhook, cleared by deleteWebhook; while set, getUpdates answers 409."""

    # ------------------------------------------------------------------ lifecycle

    @property
    def api_url(self) -> str:
        """``base_url`` for PTB (it appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def file_url(self) -> str:
        """``base_file_url`` for PTB (it appends the token, like real Telegram)."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def calls(self) -> list[str]:
        return [a.method for a in self.attempts]

    async def start(self, port: int | None = None) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._dispatch)
        # handler_cancellation: a client that gives up on a long poll frees it, as on
        # Telegram; access_log off: URLs contain the token.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        self.port = port or self.port or free_port(self.host)
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._stopping.clear()

    async def stop(self) -> None:
        self._stopping.set()
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ configuration

    def add_chat(
        self,
        chat_id: int,
        type: str = "supergroup",
        *,
        title: str | None = None,
        username: str | None = None,
        administrators: Iterable[TgUser] = (),
        member_count: int = 2,
        is_forum: bool = False,
    ) -> TgChat:
        chat = TgChat(
            chat_id,
            type,
            title=title,
            username=username,
            administrators=list(administrators),
            member_count=member_count,
            is_forum=is_forum,
        )
        self.chats[chat_id] = chat
        return chat

    def add_member(self, chat_id: int, user: TgUser, status: str = "member") -> None:
        """Set what getChatMember says of user in chat (see TgChat.members)."""
        self.chats[chat_id].members[user.id] = (user, status)

    def add_private_chat(self, user: TgUser) -> TgChat:
        """A user who has started the bot (only then may the bot message them)."""
        chat = TgChat(user.id, "private", first_name=user.first_name, username=user.username)
        self.chats[user.id] = chat
        return chat

    def fail_next(
        self,
        method: str,
        count: int = 1,
        kind: FaultKind = "429",
        *,
        retry_after: int = 3,
        hang_seconds: float = 30.0,
    ) -> None:
        """Make the next ``count`` calls of ``method`` ("*" = any method) fail.

        * ``"429"``: ``{"ok":false,"error_code":429,"description":"Too Many Requests:
          retry after N","parameters":{"retry_after":N}}``, nothing delivered.
        * ``"400"``: ``Bad Request`` (as Telegram refuses a message for good), nothing
          delivered.
        * ``"502"``: HTTP 502 with nginx's HTML page, nothing delivered.
        * ``"hang"``: no answer for ``hang_seconds`` (use more than the client's read
          timeout), nothing delivered; then 504.
        * ``"hang_after"``: the message IS delivered and recorded, but the answer is held
          for ``hang_seconds`` (the classic "timed out but sent" duplicate case).
        * ``"drop"``: the TCP connection is closed without any response, nothing delivered.
        """
        self._faults[method.lower()].append(_Fault(kind, count, retry_after, hang_seconds))

    def slow(self, method: str, seconds: float) -> None:
        """Hold every answer to ``method`` for ``seconds`` (0 ends it), then answer as usual:
        a slow Bot API, not a failing one. ``method="file"`` slows file downloads; the
        answer's status is only known once it is sent."""
        if seconds > 0:
            self._slow[method.lower()] = seconds
        else:
            self._slow.pop(method.lower(), None)

    def rate_limit(self, per_chat: int, window: float) -> None:
        """Answer 429 when a chat would get more than ``per_chat`` messages within a
        sliding ``window`` seconds (Telegram: ~20/min in groups, ~1/s per chat)."""
        self._rate_limit = (per_chat, window)

    # ------------------------------------------------------------------ injection

    def _new_update_id(self) -> int:
        uid = self._next_update_id
        self._next_update_id += 1
        return uid

    def _ensure_chat(self, chat_id: int, user: TgUser | None, chat_type: str | None) -> TgChat:
        chat = self.chats.get(chat_id)
        if chat is None:
            if chat_type is None:
                chat_type = "private" if user is not None and chat_id == user.id else "supergroup"
            if chat_type == "private" and user is not None:
                chat = self.add_private_chat(user)
            else:
                chat = self.add_chat(chat_id, chat_type)
        return chat

    def _new_message_id(self, chat_id: int | str) -> int:
        key = chat_id if isinstance(chat_id, int) else hash(chat_id)
        return next(self._message_ids[key])

    def push_update(self, update: JSON, *, created_before_filter: bool = False) -> Pushed:
        """Queue a raw update (``update_id`` is assigned if missing).

        ``created_before_filter=True`` delivers it even if its kind is not in the bot's
        ``allowed_updates``: Telegram documents that the filter "doesn't affect updates
        created before the call to getUpdates, so unwanted updates may be received for a
        short period of time".
        """
        update = dict(update)
        update.setdefault("update_id", self._new_update_id())
        if created_before_filter:
            self._unfiltered.add(int(update["update_id"]))
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        self._updates.append(update)
        self._notify_nowait()
        message = next(
            (v for k, v in update.items() if k != "update_id" and isinstance(v, dict)), {}
        )
        return Pushed(update["update_id"], message.get("message_id"), update)

    def push_message(
        self,
        chat_id: int,
        user: TgUser | None,
        *,
        chat_type: str | None = None,
        reply_to: int | None = None,
        kind: str = "message",
        date: int | None = None,
        topic: int | None = None,
        **fields: Any,
    ) -> Pushed:
        """Queue a message update with arbitrary Message fields (``text``, ``photo``,
        ``new_chat_members``, ...).  ``kind`` may be ``channel_post`` etc.  ``topic``: the
        forum topic it is written in (a reply to nothing else answers the topic's creation
        message, as in Telegram)."""
        chat = self._ensure_chat(chat_id, user, chat_type)
        message: JSON = {
            "message_id": self._new_message_id(chat_id),
            "date": int(time.time()) if date is None else date,
            "chat": chat.to_json(),
        }
        if topic is not None:
            if not chat.is_forum or topic not in chat.topics:
                raise KeyError(f"no topic {topic} in chat {chat_id}")
            message["message_thread_id"] = topic
            message["is_topic_message"] = True
            if reply_to is None:
                reply_to = topic
        if user is not None:
            message["from"] = user.to_json()
            self._seen_users.add(user.id)
            if chat.type != "private" and user.id not in chat.members:
                chat.members[user.id] = (user, "member")  # only members write in a group
        if reply_to is not None:
            message["reply_to_message"] = self._messages.get(
                (chat_id, reply_to),
                {"message_id": reply_to, "date": int(time.time()), "chat": chat.to_json()},
            )
        message.update(fields)
        self._messages[(chat_id, message["message_id"])] = message
        return self.push_update({kind: message})

    def push_text(
        self,
        chat_id: int,
        user: TgUser,
        text: str,
        *,
        entities: list[JSON] | None = None,
        reply_to: int | None = None,
        chat_type: str | None = None,
        topic: int | None = None,
    ) -> Pushed:
        """A user writes ``text`` in ``chat_id`` (private chat when chat_id == user.id), in
        forum topic ``topic`` if given."""
        fields: JSON = {"text": text}
        if entities:
            fields["entities"] = entities
        return self.push_message(
            chat_id, user, chat_type=chat_type, reply_to=reply_to, topic=topic, **fields
        )

    # ------------------------------------------------------------------ forum topics

    def _forum(self, chat_id: int) -> TgChat:
        chat = self.chats.get(chat_id)
        if chat is None or not chat.is_forum:
            raise KeyError(f"chat {chat_id} is not a forum (add_chat(..., is_forum=True))")
        return chat

    def _topic_service(self, chat: TgChat, user: TgUser, thread_id: int, fields: JSON) -> Pushed:
        """A topic's service message, written in the topic by user."""
        message: JSON = {
            "message_id": self._new_message_id(chat.id),
            "date": int(time.time()),
            "chat": chat.to_json(),
            "from": user.to_json(),
            "message_thread_id": thread_id,
            "is_topic_message": True,
            **fields,
        }
        if message["message_id"] != thread_id:
            message["reply_to_message"] = self._messages.get((chat.id, thread_id))
        self._messages[(chat.id, message["message_id"])] = message
        return self.push_update({"message": message})

    def create_topic(self, chat_id: int, name: str, user: TgUser) -> int:
        """user creates a topic (createForumTopic): its forum_topic_created message is
        pushed; returns the topic's message_thread_id."""
        chat = self._forum(chat_id)
        thread_id = self._new_message_id(chat_id)
        if thread_id == 1:  # 1 is General, the forum's own first message
            thread_id = self._new_message_id(chat_id)
        topic = TgTopic(thread_id, name)
        chat.topics[thread_id] = topic
        # the creation message is the topic's first message: its id is the topic's id
        self._message_ids[chat_id] = itertools.count(thread_id)
        created = {"name": name, "icon_color": topic.icon_color}
        self._topic_service(chat, user, thread_id, {"forum_topic_created": created})
        return thread_id

    def edit_topic(self, chat_id: int, thread_id: int, name: str, user: TgUser) -> Pushed:
        """user renames a topic (forum_topic_edited)."""
        topic = self._forum(chat_id).topics[thread_id]
        topic.name = name
        return self._topic_service(
            self.chats[chat_id], user, thread_id, {"forum_topic_edited": {"name": name}}
        )

    def close_topic(self, chat_id: int, thread_id: int, user: TgUser) -> Pushed:
        """user closes a topic: the bot may no longer write there (TOPIC_CLOSED)."""
        self._forum(chat_id).topics[thread_id].closed = True
        return self._topic_service(self.chats[chat_id], user, thread_id, {"forum_topic_closed": {}})

    def reopen_topic(self, chat_id: int, thread_id: int, user: TgUser) -> Pushed:
        self._forum(chat_id).topics[thread_id].closed = False
        return self._topic_service(
            self.chats[chat_id], user, thread_id, {"forum_topic_reopened": {}}
        )

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """The topic and its messages are gone; Telegram sends no update for it."""
        del self._forum(chat_id).topics[thread_id]

    def _thread(self, chat: TgChat, params: JSON) -> int | None:
        """The message_thread_id of a send, checked as Telegram does: an open topic of a
        forum (General is the chat itself, not a thread)."""
        if params.get("message_thread_id") in (None, ""):
            return None
        thread_id = _as_int(params["message_thread_id"], "message_thread_id")
        topic = chat.topics.get(thread_id) if chat.is_forum else None
        if topic is None:
            raise bad_request("message thread not found")
        if topic.closed:
            raise bad_request("TOPIC_CLOSED")
        return thread_id

    def push_edit(
        self, chat_id: int, message_id: int, new_text: str, *, user: TgUser | None = None
    ) -> Pushed:
        """The author edits an earlier pushed message (an ``edited_message`` update)."""
        original = self._messages.get((chat_id, message_id))
        if original is None:
            if user is None:
                raise KeyError(f"unknown message {message_id} in chat {chat_id}; pass user=")
            chat = self._ensure_chat(chat_id, user, None)
            original = {"message_id": message_id, "date": int(time.time()), "chat": chat.to_json()}
        edited = {k: v for k, v in original.items() if k not in {"text", "entities", "caption"}}
        if user is not None:
            edited["from"] = user.to_json()
        edited["text"] = new_text
        edited["edit_date"] = int(time.time())
        self._messages[(chat_id, message_id)] = edited
        return self.push_update({"edited_message": edited})

    def add_file(
        self, content: bytes, *, file_name: str | None = None, content_type: str | None = None
    ) -> str:
        """Store bytes downloadable via getFile; returns the file_id."""
        file_id = f"FAKEFILE{next(self._file_ids):06d}"
        self.files[file_id] = _UploadedFile(file_name, content, content_type)
        return file_id

    def push_photo(
        self,
        chat_id: int,
        user: TgUser,
        content: bytes = b"\x89PNG\r\n\x1a\nfake",
        *,
        caption: str | None = None,
        chat_type: str | None = None,
    ) -> Pushed:
        file_id = self.add_file(content, file_name="photo.jpg", content_type="image/jpeg")
        photo = [
            {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "width": 640,
                "height": 480,
                "file_size": len(content),
            }
        ]
        fields: JSON = {"photo": photo}
        if caption is not None:
            fields["caption"] = caption
        return self.push_message(chat_id, user, chat_type=chat_type, **fields)

    def push_document(
        self,
        chat_id: int,
        user: TgUser,
        content: bytes,
        file_name: str,
        *,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        chat_type: str | None = None,
    ) -> Pushed:
        file_id = self.add_file(content, file_name=file_name, content_type=mime_type)
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        fields: JSON = {"document": document}
        if caption is not None:
            fields["caption"] = caption
        return self.push_message(chat_id, user, chat_type=chat_type, **fields)

    def push_reaction(
        self,
        chat_id: int,
        message_id: int,
        user: TgUser | None,
        new: Iterable[str | JSON] = (),
        old: Iterable[str | JSON] = (),
        *,
        actor_chat: TgChat | None = None,
    ) -> Pushed | None:
        """``user`` (or, anonymously, ``actor_chat``) changes their reactions to a message:
        ``old`` and ``new`` are the whole lists before and after, each an emoji or a
        ReactionType object (``{"type": "custom_emoji", "custom_emoji_id": ...}``). Like
        Telegram, a group's reactions reach only a bot that is one of its administrators:
        otherwise no update is made (None). It is a ``message_reaction`` update, which
        getUpdates delivers only when ``allowed_updates`` names it."""
        chat = self._ensure_chat(chat_id, user, None)
        if chat.type != "private" and self.bot_user.id not in {a.id for a in chat.administrators}:
            return None

        def reaction(r: str | JSON) -> JSON:
            return {"type": "emoji", "emoji": r} if isinstance(r, str) else dict(r)

        event: JSON = {
            "chat": chat.to_json(),
            "message_id": message_id,
            "date": int(time.time()),
            "old_reaction": [reaction(r) for r in old],
            "new_reaction": [reaction(r) for r in new],
        }
        if user is not None:
            event["user"] = user.to_json()
        if actor_chat is not None:
            event["actor_chat"] = actor_chat.to_json()
        return self.push_update({"message_reaction": event})

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by the bot (delivered or not)."""
        return list(self._updates)

    # ------------------------------------------------------------------ waiting

    def _notify_nowait(self) -> None:
        async def _notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        with contextlib.suppress(RuntimeError):  # no running loop: nobody can be waiting
            task = asyncio.get_running_loop().create_task(_notify())
            self._bg_tasks.add(task)  # keep a strong reference until done
            task.add_done_callback(self._bg_tasks.discard)

    async def _wait_until(self, check: Callable[[], bool], timeout: float) -> bool:
        """Wait (bounded) until ``check()`` is true; False on timeout or stop."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                while not check():
                    if self._stopping.is_set():
                        return False
                    await self._changed.wait()
                return True
        except TimeoutError:
            return False

    async def wait_sent(
        self,
        predicate: Callable[[SentMessage], bool] | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[SentMessage]:
        """Return the next ``count`` not-yet-consumed accepted messages matching
        ``predicate`` (in send order) and mark them consumed; TimeoutError otherwise."""
        pred = predicate or (lambda _m: True)

        def matches() -> list[int]:
            return [i for i, m in enumerate(self.sent) if i not in self._consumed_sent and pred(m)][
                :count
            ]

        if not await self._wait_until(lambda: len(matches()) >= count, timeout):
            got = [self.sent[i].visible_text for i in matches()]
            raise TimeoutError(
                f"fake Telegram: {len(got)}/{count} matching messages within {timeout}s: {got}; "
                f"all sent: {[(m.chat_id, m.visible_text) for m in self.sent][-10:]}"
            )
        idx = matches()
        self._consumed_sent.update(idx)
        return [self.sent[i] for i in idx]

    async def wait_confirmed(self, update_id: int | None = None, timeout: float = 10.0) -> None:
        """Wait until the bot confirmed (via ``offset``) ``update_id`` (default: all
        pushed so far) — i.e. it asked for the next batch after handling it."""
        target = (self._next_update_id - 1) if update_id is None else update_id
        if not await self._wait_until(lambda: self.confirmed_offset > target, timeout):
            raise TimeoutError(
                f"fake Telegram: update {target} not confirmed within {timeout}s "
                f"(confirmed offset {self.confirmed_offset})"
            )

    async def wait_held(self, method: str, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``count`` answers to ``method`` ("file": downloads) are held by slow()."""
        name = method.lower()
        if not await self._wait_until(lambda: self._held[name] >= count, timeout):
            raise TimeoutError(f"fake Telegram: {count} {method} not held within {timeout}s")

    async def wait_long_poll(self, timeout: float = 10.0) -> None:
        """Wait until a getUpdates request is held, waiting for an update to answer with."""
        if not await self._wait_until(lambda: self._long_polls > 0, timeout):
            raise TimeoutError(f"fake Telegram: no getUpdates held within {timeout}s")

    async def wait_call(self, method: str, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``method`` was attempted at least ``count`` times in total."""
        name = method.lower()
        if not await self._wait_until(
            lambda: sum(a.method.lower() == name for a in self.attempts) >= count, timeout
        ):
            raise TimeoutError(f"fake Telegram: {method} not called {count}x in {timeout}s")

    # ------------------------------------------------------------------ HTTP layer

    @staticmethod
    def _error(code: int, description: str, parameters: JSON | None = None) -> web.Response:
        body: JSON = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, _UploadedFile]]:
        params: JSON = dict(request.query)
        files: dict[str, _UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise bad_request("JSON body must be an object")
                params.update(body)
            elif ctype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = _UploadedFile(
                            value.filename, value.file.read(), value.content_type
                        )
                    else:
                        params[key] = value
            else:
                await request.read()
        return params, files

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if path.startswith("file/bot"):
            if "file" in self._slow:
                await self._hold("file")
            return await self._serve_file(path[len("file/bot") :])
        if not path.startswith("bot") or "/" not in path:
            return self._error(404, "Not Found")
        token, _, method = path[3:].partition("/")
        attempt = Attempt(method=method, params={}, time=time.monotonic())
        self.attempts.append(attempt)
        self._notify_nowait()
        if token != self.token:
            attempt.status = 401 if _TOKEN_RE.match(token) else 404
            return self._error(
                attempt.status, "Unauthorized" if attempt.status == 401 else "Not Found"
            )
        try:
            params, files = await self._read_params(request)
        except TelegramApiError as exc:
            attempt.status = exc.code
            return self._error(exc.code, exc.description)
        attempt.params = params
        with contextlib.suppress(TelegramApiError):
            attempt.chat_id = _chat_id(params.get("chat_id")) if "chat_id" in params else None

        fault = self._take_fault(method)
        if fault is not None:
            attempt.fault = fault.kind
            if fault.kind == "429":
                attempt.status = 429
                return self._error(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after},
                )
            if fault.kind == "400":
                attempt.status = 400
                return self._error(400, "Bad Request: message refused (injected)")
            if fault.kind == "502":
                attempt.status = 502
                return web.Response(status=502, text=_NGINX_502, content_type="text/html")
            if fault.kind == "drop":
                attempt.status = -1
                if request.transport is not None:
                    request.transport.abort()
                raise asyncio.CancelledError  # nothing more to write on this connection
            if fault.kind == "hang":
                await self._hang(fault.hang_seconds)
                attempt.status = 504
                return web.Response(status=504, text="Gateway Time-out")

        if method.lower() in self._slow:
            await self._hold(method.lower())
        try:
            result = await self._call(method, params, files)
        except TelegramApiError as exc:
            attempt.status = exc.code
            return self._error(exc.code, exc.description, exc.parameters)
        if fault is not None and fault.kind == "hang_after":
            await self._hang(fault.hang_seconds)
        attempt.status = 200
        return web.json_response({"ok": True, "result": result})

    async def _hold(self, method: str) -> None:
        self._held[method] += 1
        self._notify_nowait()
        try:
            await self._hang(self._slow[method])
        finally:
            self._held[method] -= 1

    async def _hang(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.popleft()
                return fault
        return None

    async def _serve_file(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return web.Response(status=404, text="Not Found")
        file_id = file_path.rsplit("/", 1)[-1].split(".", 1)[0]
        stored = self.files.get(file_id)
        if stored is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(
            body=stored.content, content_type=stored.content_type or "application/octet-stream"
        )

    # ------------------------------------------------------------------ methods

    async def _call(self, method: str, params: JSON, files: dict[str, _UploadedFile]) -> Any:
        name = method.lower()
        handler = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "editmessagetext": self._edit_message_text,
            "deletemessage": self._delete_message,
            "getchat": self._get_chat,
            "getchatmembercount": self._get_chat_member_count,
            "getchatadministrators": self._get_chat_administrators,
            "getchatmember": self._get_chat_member,
            "getfile": self._get_file,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getmycommands": self._get_my_commands,
            "setmycommands": self._set_my_commands,
        }.get(name)
        if handler is not None:
            return await handler(params, files)
        if name in _NO_OP_METHODS:
            return True
        raise TelegramApiError(404, "Not Found")

    async def _get_me(self, params: JSON, files: dict[str, _UploadedFile]) -> JSON:
        return {
            **self.bot_user.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": self.reads_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _deliverable(self, update: JSON) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if update.get("update_id") in self._unfiltered:
            return True
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _OPT_IN_KINDS

    async def _get_updates(self, params: JSON, files: dict[str, _UploadedFile]) -> list[JSON]:
        if self.webhook_url:
            raise TelegramApiError(409, _WEBHOOK_CONFLICT)
        offset = _as_int(params.get("offset", 0), "offset")
        limit = min(max(_as_int(params.get("limit", 100), "limit"), 1), 100)
        timeout = min(float(_as_int(params.get("timeout", 0), "timeout")), self.max_long_poll)
        if "allowed_updates" in params:
            allowed = _as_json(params["allowed_updates"])
            if not isinstance(allowed, list):
                raise bad_request("allowed_updates must be an array")
            self.allowed_updates = [str(a) for a in allowed]  # [] = default set
        # Only one getUpdates at a time.  Telegram's wording ("terminated by other
        # getUpdates request") says the newer request ends the older one; "reject_newer"
        # answers the newcomer with 409 instead.
        if self._poller is not None and not self._poller.done():
            self.conflicts += 1
            if self.conflict_policy == "reject_newer":
                raise TelegramApiError(409, _CONFLICT)
            self._poller.set_result(None)
        # Confirm: everything below offset is forgotten (negative = keep the last -offset).
        if offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
        elif offset:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self._notify_nowait()
        # Updates of kinds not allowed are dropped for good, like Telegram does.
        self._updates = deque(u for u in self._updates if self._deliverable(u))

        me: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._poller = me

        def ready() -> bool:
            return bool(self._updates) or me.done()

        try:
            if timeout > 0 and not self._updates:
                waiter = asyncio.ensure_future(self._wait_until(ready, timeout))
                self._long_polls += 1
                self._notify_nowait()
                try:
                    pending: set[asyncio.Future[Any]] = {waiter, me}
                    await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    self._long_polls -= 1
                    waiter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiter
            if me.done():
                raise TelegramApiError(409, _CONFLICT)
        finally:
            if self._poller is me:
                self._poller = None
            if not me.done():
                me.cancel()
        self._updates = deque(u for u in self._updates if self._deliverable(u))
        return list(itertools.islice(self._updates, limit))

    def _known_chat(self, params: JSON) -> TgChat:
        chat_id = _chat_id(params.get("chat_id"))
        if isinstance(chat_id, str):
            chat = next((c for c in self.chats.values() if f"@{c.username}" == chat_id), None)
        else:
            chat = self.chats.get(chat_id)
        if chat is None and chat_id in self._seen_users:
            # a user the bot saw (in a group) who never pressed Start in a private chat
            raise TelegramApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _parse_text(
        self, params: JSON, key: str, limit: int, too_long: str, required: bool
    ) -> tuple[str | None, str, list[JSON]]:
        raw = params.get(key)
        if raw is None:
            if required:
                raise bad_request("message text is empty")
            return None, "", []
        text = str(raw)
        parse_mode = params.get("parse_mode") or None
        if parse_mode is None:
            visible = text
            entities = _as_json(params["entities"]) if params.get("entities") else []
        elif str(parse_mode).upper() == "HTML":
            visible, entities = parse_html(text)
        elif str(parse_mode).lower() in {"markdown", "markdownv2"}:
            raise bad_request(f"parse_mode {parse_mode} is not implemented by the fake Bot API")
        else:
            raise bad_request(f"unsupported parse_mode {parse_mode!r}")
        if required and not visible.strip():
            raise bad_request("message text is empty")
        if utf16_len(visible) > limit:
            raise bad_request(too_long)
        return text, visible, entities

    def _check_rate(self, chat_id: int | str) -> None:
        """429 if this send would exceed the limit; otherwise count it.  Sends are counted
        even while no limit is set, so enabling a limit mid-test sees the recent past."""
        now = time.monotonic()
        history = self._rate_history[chat_id]
        if self._rate_limit is not None:
            per_chat, window = self._rate_limit
            while history and history[0] <= now - window:
                history.popleft()
            if len(history) >= per_chat:
                retry = max(1, math.ceil(history[0] + window - now))
                raise TelegramApiError(
                    429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                )
        history.append(now)

    def _reply_to(self, params: JSON) -> int | None:
        if params.get("reply_parameters"):
            rp = _as_json(params["reply_parameters"])
            if not isinstance(rp, dict) or "message_id" not in rp:
                raise bad_request("invalid reply_parameters")
            return _as_int(rp["message_id"], "message_id")
        if params.get("reply_to_message_id") is not None:
            return _as_int(params["reply_to_message_id"], "reply_to_message_id")
        return None

    def _bot_message(
        self, chat: TgChat, fields: JSON, reply_to: int | None, thread_id: int | None = None
    ) -> JSON:
        message: JSON = {
            "message_id": self._new_message_id(chat.id),
            "from": self.bot_user.to_json(),
            "chat": chat.to_json(),
            "date": int(time.time()),
            **fields,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            reply_to = thread_id if reply_to is None else reply_to
        if reply_to is not None:
            message["reply_to_message"] = self._messages.get(
                (chat.id, reply_to),
                {"message_id": reply_to, "date": int(time.time()), "chat": chat.to_json()},
            )
        self._messages[(chat.id, message["message_id"])] = message
        return message

    async def _record(self, sent: SentMessage) -> None:
        async with self._changed:
            self.sent.append(sent)
            self._changed.notify_all()

    async def _send_message(self, params: JSON, files: dict[str, _UploadedFile]) -> JSON:
        chat = self._known_chat(params)
        text, visible, entities = self._parse_text(
            params, "text", MAX_TEXT_UTF16, "message is too long", required=True
        )
        reply_to = self._reply_to(params)
        for key in ("link_preview_options",):
            if params.get(key):
                _as_json(params[key])
        thread_id = self._thread(chat, params)
        self._check_rate(chat.id)
        fields: JSON = {"text": visible}
        if entities:
            fields["entities"] = entities
        message = self._bot_message(chat, fields, reply_to, thread_id)
        await self._record(
            SentMessage(
                method="sendMessage",
                chat_id=chat.id,
                text=text,
                parse_mode=params.get("parse_mode") or None,
                visible_text=visible,
                entities=entities,
                message_id=message["message_id"],
                params=params,
                time=time.monotonic(),
                reply_to_message_id=reply_to,
                message_thread_id=thread_id,
            )
        )
        return message

    async def _send_file(
        self, method: str, field_name: str, params: JSON, files: dict[str, _UploadedFile]
    ) -> JSON:
        chat = self._known_chat(params)
        caption, visible, entities = self._parse_text(
            params, "caption", MAX_CAPTION_UTF16, "message caption is too long", required=False
        )
        upload = files.get(field_name)
        if upload is None:
            ref = params.get(field_name)
            if isinstance(ref, str) and ref.startswith("attach://"):
                upload = files.get(ref[len("attach://") :])
            elif isinstance(ref, str) and ref in self.files:
                upload = self.files[ref]
        if upload is None:
            raise bad_request(f"there is no {field_name} in the request")
        if not upload.content:
            raise bad_request("file must be non-empty")
        reply_to = self._reply_to(params)
        thread_id = self._thread(chat, params)
        self._check_rate(chat.id)
        file_id = self.add_file(
            upload.content, file_name=upload.file_name, content_type=upload.content_type
        )
        fields: JSON = {}
        if field_name == "document":
            fields["document"] = {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": upload.file_name,
                "mime_type": upload.content_type or "application/octet-stream",
                "file_size": len(upload.content),
            }
        else:
            fields["photo"] = [
                {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "width": 640,
                    "height": 480,
                    "file_size": len(upload.content),
                }
            ]
        if caption is not None:
            fields["caption"] = visible
            if entities:
                fields["caption_entities"] = entities
        message = self._bot_message(chat, fields, reply_to, thread_id)
        await self._record(
            SentMessage(
                method=method,
                chat_id=chat.id,
                text=caption,
                parse_mode=params.get("parse_mode") or None,
                visible_text=visible if caption is not None else None,
                entities=entities,
                message_id=message["message_id"],
                params=params,
                time=time.monotonic(),
                reply_to_message_id=reply_to,
                file_name=upload.file_name,
                file_bytes=upload.content,
                mime_type=upload.content_type,
                message_thread_id=thread_id,
            )
        )
        return message

    async def _send_document(self, params: JSON, files: dict[str, _UploadedFile]) -> JSON:
        return await self._send_file("sendDocument", "document", params, files)

    async def _send_photo(self, params: JSON, files: dict[str, _UploadedFile]) -> JSON:
        return await self._send_file("sendPhoto", "photo", params, files)

    async def _edit_message_text(self, params: JSON, files: dict[str, _UploadedFile]) -> JSON:
        chat = self._known_chat(params)
        message_id = _as_int(params.get("message_id"), "message_id")
        original = self._messages.get((chat.id, message_id))
        if original is None:
            raise bad_request("message to edit not found")
        if original.get("from", {}).get("id") != self.bot_user.id:
            raise bad_request("message can't be edited")
        text, visible, entities = self._parse_text(
            params, "text", MAX_TEXT_UTF16, "message is too long", required=True
        )
        if visible == original.get("text") and entities == original.get("entities", []):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        edited = {k: v for k, v in original.items() if k != "entities"}
        edited.update(text=visible, edit_date=int(time.time()))
        if entities:
            edited["entities"] = entities
        self._messages[(chat.id, message_id)] = edited
        await self._record(
            SentMessage(
                method="editMessageText",
                chat_id=chat.id,
                text=text,
                parse_mode=params.get("parse_mode") or None,
                visible_text=visible,
                entities=entities,
                message_id=message_id,
                params=params,
                time=time.monotonic(),
            )
        )
        return edited

    async def _delete_message(self, params: JSON, files: dict[str, _UploadedFile]) -> bool:
        chat = self._known_chat(params)
        message_id = _as_int(params.get("message_id"), "message_id")
        if self._messages.pop((chat.id, message_id), None) is None:
            raise bad_request("message to delete not found")
        await self._record(
            SentMessage(
                method="deleteMessage",
                chat_id=chat.id,
                text=None,
                parse_mode=None,
                visible_text=None,
                entities=[],
                message_id=message_id,
                params=params,
                time=time.monotonic(),
            )
        )
        return True

    async def _get_chat(self, params: JSON, files: dict[str, _UploadedFile]) -> JSON:
        chat = self._known_chat(params)
        return {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_chat_member_count(self, params: JSON, files: dict[str, _UploadedFile]) -> int:
        return self._known_chat(params).member_count

    @staticmethod
    def _admin_json(user: TgUser, creator: bool) -> JSON:
        if creator:
            return {"status": "creator", "user": user.to_json(), "is_anonymous": False}
        rights = [
            "can_be_edited",
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
        ]
        return {
            "status": "administrator",
            "user": user.to_json(),
            "is_anonymous": False,
            **dict.fromkeys(rights, False),
        }

    async def _get_chat_administrators(
        self, params: JSON, files: dict[str, _UploadedFile]
    ) -> list[JSON]:
        chat = self._known_chat(params)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        return [self._admin_json(u, i == 0) for i, u in enumerate(chat.administrators)]

    async def _get_chat_member(self, params: JSON, files: dict[str, _UploadedFile]) -> JSON:
        chat = self._known_chat(params)
        user_id = _as_int(params.get("user_id"), "user_id")
        for i, admin in enumerate(chat.administrators):
            if admin.id == user_id:
                return self._admin_json(admin, i == 0)
        if user_id == self.bot_user.id:
            return {"status": "member", "user": self.bot_user.to_json()}
        if user_id in chat.members:
            user, status = chat.members[user_id]
            return self._member_json(user, status)
        if user_id in self._seen_users:
            return {"status": "left", "user": {"id": user_id, "is_bot": False, "first_name": "?"}}
        raise bad_request("user not found")

    @staticmethod
    def _member_json(user: TgUser, status: str) -> JSON:
        """A ChatMember with every field PTB 22.8 requires of its status."""
        if status in ("member", "left"):
            return {"status": status, "user": user.to_json()}
        if status == "kicked":
            return {"status": "kicked", "user": user.to_json(), "until_date": 0}
        rights = [
            "can_send_messages",
            "can_send_audios",
            "can_send_documents",
            "can_send_photos",
            "can_send_videos",
            "can_send_video_notes",
            "can_send_voice_notes",
            "can_send_polls",
            "can_send_other_messages",
            "can_add_web_page_previews",
            "can_react_to_messages",
            "can_change_info",
            "can_invite_users",
            "can_pin_messages",
            "can_manage_topics",
            "can_edit_tag",
        ]
        if status == "restricted_old_api":
            rights = [r for r in rights if r not in ("can_react_to_messages", "can_edit_tag")]
        return {
            "status": "restricted",
            "user": user.to_json(),
            "is_member": status != "restricted_left",
            "until_date": 0,
            **dict.fromkeys(rights, False),
        }

    async def _get_file(self, params: JSON, files: dict[str, _UploadedFile]) -> JSON:
        file_id = str(params.get("file_id") or "")
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        suffix = ""
        if stored.file_name and "." in stored.file_name:
            suffix = "." + stored.file_name.rsplit(".", 1)[1]
        # Relative path; PTB prepends base_file_url + token, as with real Telegram.
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(stored.content),
            "file_path": f"documents/{file_id}{suffix}",
        }

    async def _delete_webhook(self, params: JSON, files: dict[str, _UploadedFile]) -> bool:
        if _as_bool(params.get("drop_pending_updates", False)):
            self._updates.clear()
        self.webhook_url = ""
        return True

    async def _set_webhook(self, params: JSON, files: dict[str, _UploadedFile]) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        return True

    async def _get_webhook_info(self, params: JSON, files: dict[str, _UploadedFile]) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _get_my_commands(self, params: JSON, files: dict[str, _UploadedFile]) -> list[JSON]:
        return self.my_commands.get(str(params.get("language_code") or ""), [])

    async def _set_my_commands(self, params: JSON, files: dict[str, _UploadedFile]) -> bool:
        """As the Bot API checks it: at most 100 commands, names of 1-32 characters of a-z,
        0-9 and _, descriptions of 1-256 characters, a two-letter language code or none."""
        commands = _as_json(params.get("commands"))
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a JSON array of at most 100 commands")
        for c in commands:
            c = c if isinstance(c, dict) else {}
            name, text = c.get("command"), c.get("description")
            if not (isinstance(name, str) and re.fullmatch(r"[a-z0-9_]{1,32}", name)):
                raise bad_request("BOT_COMMAND_INVALID")
            if not (isinstance(text, str) and 1 <= len(text) <= 256):
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        code = str(params.get("language_code") or "")
        if code and not re.fullmatch(r"[a-z]{2}", code):
            raise bad_request("LANGUAGE_CODE_INVALID")
        if _as_json(params.get("scope") or "null") not in (None, {"type": "default"}):
            raise bad_request("only the default scope is faked")
        self.my_commands[code] = commands
        return True


def fake_telegram(**kwargs: Any) -> FakeTelegram:
    """Factory for fixtures: ``async with fake_telegram(chats=[...]) as fake: ...``."""
    return FakeTelegram(**kwargs)
