"""Free loopback ports for test servers (bind to port 0, read it back, close)."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free on ``host`` a moment ago.

    There is a small race (another process may grab it before the server binds); the
    kernel hands out ephemeral ports round-robin, so in practice it does not happen.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
