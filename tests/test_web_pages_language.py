"""The media and paste links' error pages in the reader's language (issue 26): the
browser's Accept-Language, else English; the rest of the answer unchanged."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from bridge.web.media import page


@pytest.mark.parametrize(
    ("accept", "status", "lang", "title", "words"),
    [
        (
            "fr-FR,fr;q=0.9",
            410,
            "fr",
            "Lien expiré",
            "Ce lien vers un média a expiré ; redemandez le fichier sur Telegram.",
        ),
        ("de", 404, "de", "Nicht gefunden", "Unter dieser Adresse gibt es keine Datei."),
        (
            "es-AR, en;q=0.5",
            502,
            "es",
            "Archivo no disponible",
            "Telegram no entregó este archivo; vuelve a intentarlo más tarde.",
        ),
        (None, 404, "en", "Not found", "There is no file at this address."),
    ],
)
def test_error_pages_speak_the_browsers_language(
    accept: str | None, status: int, lang: str, title: str, words: str
) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    response = page(status, {"Retry-After": "5"}, make_mocked_request("GET", "/", headers=headers))
    assert response.status == status
    assert response.text == (
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
        f"<title>{title}</title><h1>{title}</h1><p>{words}</p></html>\n"
    )
    assert response.headers["Content-Language"] == lang
    assert response.headers["Vary"] == "Accept-Language"
    assert response.headers["Retry-After"] == "5"
