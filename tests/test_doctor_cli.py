"""`tgirc-bridge doctor --timeout`: a step's bound that cannot make the doctor useless."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from aiohttp import web

from bridge.checks import failed, passed
from bridge.cli import main
from bridge.config_model import WebConfig
from bridge.doctor.report import render
from bridge.doctor.web import probe_web


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "301", "ten"])
def test_a_timeout_that_bounds_nothing_is_refused_naming_the_option(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: 0, -5 and nan made every check fail at once ("no answer within 0s"), inf let a
    # silent server hold the doctor for ever. The config is never read: argparse stops first.
    with pytest.raises(SystemExit) as stop:
        main(["doctor", "--config", str(tmp_path / "absent.toml"), "--timeout", value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --timeout:" in err
    assert repr(value) in err


def test_a_line_holds_no_bidi_control_from_a_server() -> None:
    # the source of 001, an account name and an error text come from the server unfiltered
    check = passed("irc: registered as bot-doctor on irc.\u202eevil.example\u2066")
    assert render([check], []) == ["✓ irc: registered as bot-doctor on irc. evil.example "]


async def test_web_listen_held_by_another_program_is_named() -> None:
    # a listening socket that is not a bridge (no /healthz answer, then a page of another
    # program's): web.listen is named as the thing to change
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        web = WebConfig(public_url="https://tg.example.net", listen=f"127.0.0.1:{port}")
        checks = await probe_web(web, 1.0)
    assert checks == [
        passed("web: public_url https://tg.example.net is well formed"),
        failed(
            f"web: 127.0.0.1:{port} is in use by another program: change web.listen, or stop it"
        ),
    ]


async def test_web_listen_held_by_a_server_that_is_not_a_bridge() -> None:
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})  # not the bridge's keys

    app = web.Application()
    app.router.add_get("/healthz", health)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        config = WebConfig(public_url="https://tg.example.net", listen=f"127.0.0.1:{port}")
        checks = await probe_web(config, 2.0)
    finally:
        await runner.cleanup()
    assert checks[1] == failed(
        f"web: 127.0.0.1:{port} is in use by another program: change web.listen, or stop it"
    )
