"""A relay that stores nothing, on the bridge's own libraries: the floor of the idle bench.

Issue 12 asks the bridge to be as fast at idle as a bridge that stores nothing. The
figure it quotes (matterbridge, Go) was taken on another machine, so the idle bench runs
this beside the bridge, in the same run: the `irc` library on asyncio (with the bridge's
prompt-ACK socket setting) and a bare aiohttp long poll and sendMessage, relaying text
both ways and nothing else — no database, no outbox, no python-telegram-bot, no commands,
no formatting, no retries. Whatever this takes is what the machine, the ircd, the fake
Bot API and Python cost before any of the bridge's guarantees.

    python -m bench.null_relay IRC_HOST IRC_PORT CHANNEL API_URL TOKEN GROUP_ID

prints "ready" once in the channel and polling; runs until killed.
"""

from __future__ import annotations

import asyncio
import html
import sys
from typing import Any

import aiohttp
import irc.client
import irc.client_aio

from bridge.irc.tcp import PromptAckIrcProtocol

NICK = "nullrelay"


class NullRelay:
    def __init__(self, channel: str, api: str, group: str, http: aiohttp.ClientSession) -> None:
        self.channel = channel
        self.api = api
        self.group = group
        self.http = http
        self.conn: Any = None
        self.joined = asyncio.Event()
        self._posts: set[asyncio.Task[None]] = set()

    def on_join(self, conn: Any, event: Any) -> None:
        if irc.client.NickMask(event.source).nick == NICK:
            self.joined.set()

    def on_pubmsg(self, conn: Any, event: Any) -> None:
        nick = irc.client.NickMask(event.source).nick
        text = f"<b>{html.escape(nick)}</b>: {html.escape(event.arguments[0])}"
        task = asyncio.create_task(self._post(text))
        self._posts.add(task)
        task.add_done_callback(self._posts.discard)

    async def _post(self, text: str) -> None:
        data = {"chat_id": self.group, "text": text, "parse_mode": "HTML"}
        async with self.http.post(f"{self.api}/sendMessage", data=data) as answer:
            await answer.read()

    async def poll(self) -> None:
        offset = 0
        while True:
            data = {"timeout": "10", "offset": str(offset)}
            async with self.http.post(f"{self.api}/getUpdates", data=data) as answer:
                updates = (await answer.json())["result"]
            for update in updates:
                offset = update["update_id"] + 1
                message = update.get("message") or {}
                if str(message.get("chat", {}).get("id")) == self.group and "text" in message:
                    name = message.get("from", {}).get("first_name", "?")
                    self.conn.privmsg(self.channel, f"<{name}> {message['text']}")


async def main(host: str, port: int, channel: str, api_url: str, token: str, group: str) -> None:
    loop = asyncio.get_running_loop()
    reactor = irc.client_aio.AioReactor(loop=loop)
    async with aiohttp.ClientSession() as http:
        relay = NullRelay(channel, f"{api_url}{token}", group, http)
        reactor.add_global_handler("welcome", lambda c, e: c.join(channel))
        reactor.add_global_handler("join", relay.on_join)
        reactor.add_global_handler("pubmsg", relay.on_pubmsg)
        conn = reactor.server()
        conn.protocol_class = PromptAckIrcProtocol
        relay.conn = await conn.connect(host, port, NICK)
        poller = asyncio.create_task(relay.poll())
        await relay.joined.wait()
        print("ready", flush=True)
        await poller


if __name__ == "__main__":
    h, p, c, a, t, g = sys.argv[1:7]
    asyncio.run(main(h, int(p), c, a, t, g))
