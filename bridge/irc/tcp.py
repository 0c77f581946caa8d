"""Socket tuning for line protocols where each small write must arrive at once."""

from __future__ import annotations

import contextlib
import socket
from typing import Any


def ack_promptly(transport: Any, protocol: Any) -> None:
    """Re-arm TCP_QUICKACK on every read of this connection (Linux; elsewhere a no-op).

    Servers that leave Nagle on (InspIRCd) hold a line back until the previous one is
    acknowledged, and Linux delays that ACK by up to 40 ms when the reader has nothing to
    send. With echo-message every line the bridge writes comes back to it, so the next line
    from a human waited for that timer: 22 ms p50 with 50 bridged pairs, 0.2 ms with this.
    """
    quickack = getattr(socket, "TCP_QUICKACK", None)
    sock = transport.get_extra_info("socket")
    if quickack is None or sock is None:
        return
    received = protocol.data_received

    def data_received(data: bytes) -> None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        received(data)

    protocol.data_received = data_received
