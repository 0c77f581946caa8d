"""The digest in [digest] language (issue 26): the mail's own words translated, the
members' never; check-config refuses a language that is not shipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.cli import main
from bridge.mail.compose import Letterhead, compose
from bridge.model import Network
from storage.digest import DigestContent
from storage.roster_model import Identity, Member
from tests.support.configs import MINIMAL

DAY = 86_400.0
SINCE = 1_767_225_600.0  # 2026-01-01 00:00 UTC
ANA = Member(
    7,
    SINCE + DAY,
    (
        Identity(Network.TELEGRAM, "1", "Ana Pérez", None, True),
        Identity(Network.IRC, "account:ana", "ana", "ana", True),
    ),
    ("python", "traducción"),
)
BEA = Member(8, SINCE + 2 * DAY, (Identity(Network.TELEGRAM, "2", "Bea", "bea_tg", True),), ())
CONTENT = DigestContent(
    since=SINCE,
    until=SINCE + 7 * DAY,
    new=(ANA,),
    updated=(BEA,),
    unlisted=2,
    top_interests=(("python", 4), ("traducción", 1)),
    channels={7: frozenset({"#wiki-es"})},
)


def letterhead(language: str) -> Letterhead:
    return Letterhead(
        sender="bridge@example.org",
        to=("lista@example.org",),
        title="#wiki-es",
        channels=("#wiki-es",),
        directory_url="https://dir.example.org/members",
        language=language,
    )


def test_the_digest_in_spanish() -> None:
    mail = compose(CONTENT, letterhead("es"), SINCE + 7 * DAY)
    assert mail["Subject"] == "#wiki-es: 3 miembros nuevos, 1 actualizado"
    assert mail.get_content() == (
        "#wiki-es: quién se unió y en qué trabaja\n"
        "Del 2026-01-01 00:00 UTC al 2026-01-08 00:00 UTC.\n"
        "\n"
        "Nuevos en el directorio de miembros (1)\n" + "-" * 72 + "\n\n"
        "* Ana Pérez\n"
        "  Telegram: Ana Pérez (sin @usuario)\n"
        "  IRC: ana en #wiki-es\n"
        "  Intereses: python, traducción\n"
        "  Miembro desde: 2026-01-02\n"
        "\n"
        "Cambiaron sus intereses (1)\n" + "-" * 72 + "\n\n"
        "* Bea\n"
        "  Telegram: Bea (@bea_tg)\n"
        "  Intereses: (ninguno)\n"
        "  Miembro desde: 2026-01-03\n"
        "\n"
        "Además, 2 personas se unieron sin elegir aparecer en el directorio;\n"
        "el directorio y este correo solo nombran a quienes eligieron /listed yes.\n"
        "\n"
        "Intereses más comunes\n" + "-" * 72 + "\n"
        "  python      4\n"
        "  traducción  1\n"
        "\n"
        "Todos los del directorio: https://dir.example.org/members\n"
        "\n"
        "-- \n"
        "Enviado por el puente entre el grupo de Telegram y el canal de IRC de la comunidad.\n"
        "Únete con /join, indica tus intereses con /interests y aparece en el directorio con "
        "/listed yes.\n"
    )


def test_the_digest_in_english_by_default() -> None:
    mail = compose(CONTENT, letterhead("en"), SINCE + 7 * DAY)
    assert mail["Subject"] == "#wiki-es: 3 new members, 1 updated"
    body = mail.get_content()
    assert body.startswith("#wiki-es: who joined and what they work on\n")
    assert "  Interests: (none given)\n" in body and "  IRC: ana on #wiki-es\n" in body


def test_check_config_refuses_an_unshipped_digest_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = (
        '[mail]\nhost = "smtp.example.org"\nfrom = "bridge@example.org"\n'
        '[digest]\nto = "list@example.org"\nlanguage = "%s"\n'
    )
    good = tmp_path / "good.toml"
    good.write_text(MINIMAL + tables % "fr")
    assert main(["check-config", "--config", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL + tables % "Klingon")
    assert main(["check-config", "--config", str(bad)]) == 2
    assert (
        "config error: digest.language: not a shipped language (expected one of de, en, es, fr)"
        in capsys.readouterr().err
    )
