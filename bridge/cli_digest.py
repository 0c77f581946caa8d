"""tgirc-bridge digest [--send]: the digest that is due now, shown or sent by hand."""

from __future__ import annotations

import sys
import time

from bridge.config import Config
from bridge.mail.schedule import prepare
from bridge.mail.send import MailError, send
from storage.db import Database
from storage.digest import DigestStore


async def digest(db: Database, config: Config, *, send_now: bool) -> int:
    """Without send_now, print the whole message (headers too) and send nothing. With it,
    send and record it, so the schedule counts from now; 1 naming the SMTP error if not."""
    if config.digest is None or config.mail is None:
        print("error: the config has no [digest] table", file=sys.stderr)
        return 1
    store = DigestStore(db)
    content, message = await prepare(store, config, time.time())
    if content.empty:
        if send_now:
            await store.record_sent(content, sent=False)
        print("nothing new since the last digest: no mail", file=sys.stderr)
        return 0
    if not send_now:
        sys.stdout.write(message.as_string())
        sys.stdout.flush()
        return 0
    try:
        await send(config.mail, message)
    except MailError as exc:
        print(f"error: digest not sent: {exc}", file=sys.stderr)
        return 1
    await store.record_sent(content, sent=True)
    print(f"digest sent to {', '.join(config.digest.to)}: {message['Subject']}")
    return 0
