"""The members directory pages: /members (and ?q=), /members.json, /interests, /interests/TAG.

Server-rendered (Jinja2, autoescaped), no scripts, one stylesheet. Only members who said
/listed yes exist here (storage.directory filters every read). A rendered page is cached
(at most CACHE_SECONDS) and dropped as soon as the roster's version changes (a trigger bumps it
on every write), so /leave or /listed no disappear at the next request; answers carry an
ETag and `Cache-Control: no-cache`, so a browser asks again and gets a 304 when nothing
changed. There is no /members.csv: the full export stays a moderator's command.

The pages speak the visitor's language: ?lang= (carried on by every link), else the best
shipped language of the browser's Accept-Language, else [i18n] default_language; the page's
lang attribute and Content-Language follow, and answers vary on Accept-Language.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from markupsafe import Markup

from bridge.casemap import irc_casefold
from bridge.display_names import clean_name
from bridge.i18n import SOURCE_LANGUAGE, match, shipped, translations
from bridge.web.directory_view import JoinLink, Links, join_view, member_view, tag_page_view
from bridge.web.language import Language, accepted, language_tag
from storage.directory import DirectoryStore, Page
from storage.roster_model import Member
from storage.tags import TagError, normalise_tag

CACHE_SECONDS = 60.0
"""The longest a page is served from the cache; any roster write drops it before that."""
VERSION_RECHECK = 2.0
"""How stale a page may be after a roster write by another process (the operator's roster
commands); this process's own writes are seen at once."""
CACHE_ENTRIES = 512
"""Pages kept at most (searches are what visitors type: bounded, oldest out first)."""
CARD_ENTRIES = 5000
"""Member cards kept ready (about 1 kB each), least recently shown out first."""
MAX_QUERY = 64
MAX_PAGE = 100_000
Clock = Callable[[], float]
Rendered = tuple[bytes, str]
"""(body, content type)"""
Card = tuple[Member, tuple[str, ...], bool, str, Links]
"""A member, the channels their card names, whether they take questions (/askme), and the
language and links it is written with"""


def _environment(language: str) -> jinja2.Environment:
    """The templates in one language (Jinja's i18n extension over the bridge's catalogs)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bridge.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


class PageCache:
    """Rendered pages by URL, valid while the roster version is unchanged and for a few
    seconds. The version is read again only when this process wrote to the database since
    it was last read, or VERSION_RECHECK after it (a roster command of another process);
    concurrent requests share that one query. Under a hundred readers a query per request
    queued them all behind the database thread (p99 165 ms instead of 0.1 ms)."""

    def __init__(self, directory: DirectoryStore, clock: Clock) -> None:
        self._directory = directory
        self._clock = clock
        self._pages: OrderedDict[str, tuple[int, float, bytes, str, str]] = OrderedDict()
        self._version: asyncio.Future[int] | None = None
        self._known: tuple[int, int, float] | None = None
        """(version, the database's write count and the time when it was read)"""
        self._rendering: dict[tuple[str, int], asyncio.Future[tuple[bytes, str, str]]] = {}

    async def version(self) -> int:
        """The roster version now; one query however many requests ask at once."""
        writes = self._directory.db.writes
        known = self._known
        if known is not None and known[1] == writes and self._clock() - known[2] < VERSION_RECHECK:
            return known[0]
        if self._version is None:
            self._version = asyncio.ensure_future(self._read_version(writes))
            self._version.add_done_callback(self._forget_version)
        return await asyncio.shield(self._version)

    async def _read_version(self, writes: int) -> int:
        at = self._clock()
        version = await self._directory.version()
        self._known = (version, writes, at)
        return version

    def _forget_version(self, _: asyncio.Future[int]) -> None:
        self._version = None

    async def get(
        self, key: str, render: Callable[[], Awaitable[Rendered]]
    ) -> tuple[bytes, str, str]:
        """(body, content type, ETag) of key, rendered again when stale; readers asking for
        the same stale page at once share one rendering."""
        version = await self.version()
        hit = self._pages.get(key)
        if hit is not None and hit[0] == version and self._clock() - hit[1] < CACHE_SECONDS:
            self._pages.move_to_end(key)
            return hit[2], hit[3], hit[4]
        job = self._rendering.get((key, version))
        if job is None:
            job = asyncio.ensure_future(self._render(key, version, render))
            self._rendering[(key, version)] = job
            job.add_done_callback(lambda _: self._rendering.pop((key, version), None))
        return await asyncio.shield(job)

    async def _render(
        self, key: str, version: int, render: Callable[[], Awaitable[Rendered]]
    ) -> tuple[bytes, str, str]:
        body, content_type = await render()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        self._pages[key] = (version, self._clock(), body, content_type, etag)
        self._pages.move_to_end(key)
        while len(self._pages) > CACHE_ENTRIES:
            self._pages.popitem(last=False)
        return body, content_type, etag


class DirectoryPages:
    """The handlers; add_directory() registers them."""

    def __init__(
        self,
        directory: DirectoryStore,
        public_url: str,
        channels: Sequence[str],
        clock: Clock,
        *,
        title: str = "",
        joins: Sequence[JoinLink] = (),
        default_language: str = SOURCE_LANGUAGE,
    ) -> None:
        self.directory = directory
        self.default_language = default_language
        self.site = {"site_title": title, "joins": join_view(joins)}
        """What every page shows around its content: whose community, and how to join it."""
        self.links = Links(urlsplit(public_url).path.rstrip("/"))
        self.channels = tuple((irc_casefold(c), c) for c in channels)
        """(folded, as configured): the channels a card may name, in the config's order"""
        self.cache = PageCache(directory, clock)
        self._cards: OrderedDict[Card, tuple[dict[str, Any], Markup]] = OrderedDict()
        self.envs = {language: _environment(language) for language in shipped()}
        self.stylesheet = (resources.files("bridge.web") / "static" / "style.css").read_bytes()
        self.stylesheet_etag = '"' + hashlib.sha256(self.stylesheet).hexdigest()[:32] + '"'

    # ----------------------------------------------------------------- routes

    async def members(self, request: web.Request) -> web.StreamResponse:
        q, page, lang = _query(request), _page(request), self._language(request)
        return await self._answer(
            request, f"m\0{q}\0{page}", lambda: self._members(q, page, lang), lang
        )

    async def members_json(self, request: web.Request) -> web.StreamResponse:
        q, page = _query(request), _page(request)
        return await self._answer(request, f"j\0{q}\0{page}", lambda: self._json(q, page))

    async def tags(self, request: web.Request) -> web.StreamResponse:
        page, lang = _page(request), self._language(request)
        return await self._answer(request, f"t\0{page}", lambda: self._tags(page, lang), lang)

    async def tag(self, request: web.Request) -> web.StreamResponse:
        lang = self._language(request)
        try:
            tag = normalise_tag(request.match_info["tag"])
        except TagError:
            text = translations(lang[0]).gettext("No such interest.")
            raise web.HTTPNotFound(text=text) from None
        page = _page(request)
        return await self._answer(
            request, f"g\0{tag}\0{page}", lambda: self._tag(tag, page, lang), lang
        )

    async def style(self, request: web.Request) -> web.StreamResponse:
        if self.stylesheet_etag in _if_none_match(request):
            return web.Response(status=304, headers={"ETag": self.stylesheet_etag})
        return web.Response(
            body=self.stylesheet,
            content_type="text/css",
            charset="utf-8",
            headers={"ETag": self.stylesheet_etag, "Cache-Control": "public, max-age=3600"},
        )

    # -------------------------------------------------------------- rendering

    def _language(self, request: web.Request) -> Language:
        """(the page's language, the one ?lang= chose, if any): ?lang= a shipped language,
        else Accept-Language's best shipped one, else the default."""
        chosen = match(request.query.get("lang", "")[:16])
        if chosen is not None:
            return chosen, chosen
        return accepted(request.headers.get("Accept-Language", ""), self.default_language), None

    async def _answer(
        self,
        request: web.Request,
        key: str,
        render: Callable[[], Awaitable[Rendered]],
        lang: Language | None = None,
    ) -> web.StreamResponse:
        if lang is not None:  # one page per language, and per ?lang= (its links carry it)
            key = f"{lang[0]}\0{lang[1] or ''}\0{key}"
        body, content_type, etag = await self.cache.get(key, render)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if lang is not None:
            headers |= {"Content-Language": language_tag(lang[0]), "Vary": "Accept-Language"}
        if etag in _if_none_match(request):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)

    def _links(self, lang: Language) -> Links:
        return self.links if lang[1] is None else replace(self.links, lang=lang[1])

    def _html(self, template: str, lang: Language, **values: Any) -> Rendered:
        html = (
            self.envs[lang[0]]
            .get_template(template)
            .render(links=self._links(lang), html_lang=language_tag(lang[0]), **self.site, **values)
        )
        return html.encode("utf-8"), "text/html"

    async def _found(self, q: str, page: int, lang: Language | None = None) -> dict[str, Any]:
        found = await (self.directory.search(q, page) if q else self.directory.members_page(page))
        return self._page_view(found, lang or (SOURCE_LANGUAGE, None))

    def _page_view(self, found: Page, lang: Language) -> dict[str, Any]:
        """The page's values and its cards' HTML, each card made once per distinct member
        value (a Member equal in every field, seen in the same channels, shows the same card;
        a renamed one a new one)."""
        views, cards = [], []
        for member in found.members:
            seen = found.channels.get(member.id, frozenset())
            key = (member, self._shown(seen), member.id in found.askme, lang[0], self._links(lang))
            made = self._cards.pop(key, None) or self._card(*key)
            self._cards[key] = made
            views.append(made[0])
            cards.append(made[1])
        while len(self._cards) > CARD_ENTRIES:
            self._cards.popitem(last=False)
        return {
            "total": found.total,
            "page": found.page,
            "pages": found.pages,
            "members": views,
            "cards": cards,
        }

    def _shown(self, seen: frozenset[str]) -> tuple[str, ...]:
        """The channels a member was seen in that the directory may name, in config order."""
        if not seen:
            return ()
        folded = {irc_casefold(c) for c in seen}
        return tuple(name for fold, name in self.channels if fold in folded)

    def _card(
        self, member: Member, channels: tuple[str, ...], askme: bool, language: str, links: Links
    ) -> tuple[dict[str, Any], Markup]:
        view = member_view(member, channels, links, askme=askme)
        return view, Markup(self.envs[language].get_template("_card.html").render(m=view))

    async def _members(self, q: str, page: int, lang: Language) -> Rendered:
        view = await self._found(q, page, lang)
        _ = translations(lang[0]).gettext
        # Translators: a page's title; %(query)s is what the visitor searched for.
        title = _("Search: %(query)s") % {"query": q} if q else _("Members")
        links = self._links(lang)
        return self._html(
            "members.html",
            lang,
            title=title,
            section="members",
            q=q,
            max_query=MAX_QUERY,
            page_url=lambda n: links.members(q, n),
            **view,
        )

    async def _json(self, q: str, page: int) -> Rendered:
        view = await self._found(q, page)
        del view["cards"]
        body = json.dumps({"query": q or None, **view}, ensure_ascii=False, indent=1)
        return body.encode("utf-8"), "application/json"

    async def _tags(self, page: int, lang: Language) -> Rendered:
        links = self._links(lang)
        view = tag_page_view(await self.directory.tags(page), links)
        return self._html(
            "interests.html",
            lang,
            title=translations(lang[0]).gettext("Interests"),
            section="interests",
            page_url=links.tags,
            **view,
        )

    async def _tag(self, tag: str, page: int, lang: Language) -> Rendered:
        view = self._page_view(await self.directory.tag_members(tag, page), lang)
        links = self._links(lang)
        # Translators: a page's title; %(tag)s is an interest.
        title = translations(lang[0]).gettext("Interest: %(tag)s") % {"tag": tag}
        return self._html(
            "tag.html",
            lang,
            title=title,
            section="interests",
            tag=tag,
            page_url=lambda n: links.tag(tag, n),
            **view,
        )


def _query(request: web.Request) -> str:
    """The search as typed, made plain as names are (emoji kept), spaces collapsed, bounded."""
    text = clean_name(request.query.get("q", ""))
    return " ".join(text.split())[:MAX_QUERY]


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return min(int(raw), MAX_PAGE) if raw.isdecimal() and raw.isascii() and raw else 1


def _if_none_match(request: web.Request) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


def add_directory(
    app: web.Application,
    directory: DirectoryStore,
    public_url: str,
    channels: Sequence[str] = (),
    clock: Clock = time.monotonic,
    *,
    title: str = "",
    joins: Sequence[JoinLink] = (),
    default_language: str = SOURCE_LANGUAGE,
) -> DirectoryPages:
    """Register the directory's routes on app (before it starts); channels are the bridged
    IRC channels the directory may name (not `directory = false`): a member's card names
    those the member was seen in (storage.seen_channels). Like the media links, routes are
    at the root and links start with public_url's path: a proxy publishing the bridge under
    a prefix strips it. title ([web] title) heads every page; joins are the public pairs'
    ways in, shown as "Join the conversation". default_language ([i18n]) is the pages'
    language for a browser that accepts none of the shipped ones."""
    pages = DirectoryPages(
        directory,
        public_url,
        channels,
        clock,
        title=title,
        joins=joins,
        default_language=default_language,
    )
    app.router.add_get("/members", pages.members)
    app.router.add_get("/members.json", pages.members_json)
    app.router.add_get("/interests", pages.tags)
    app.router.add_get("/interests/{tag}", pages.tag)
    app.router.add_get("/static/style.css", pages.style)
    return pages
