"""`tgirc-bridge doctor --timeout`: a step's bound that cannot make the doctor useless."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.checks import passed
from bridge.cli import main
from bridge.doctor.report import render


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
