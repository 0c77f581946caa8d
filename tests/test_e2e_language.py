"""End to end: the bot answers each person in their language (issue 26), through the real
bridge, a real ngircd and the fake Bot API.

Telegram: the person's /language choice, else their app's language_code, else the default;
IRC: their /language choice; a group or channel hears its pair's language; the command menu
is set once per language. Relayed messages are never translated (not tested here: nothing
in the relay path reads a catalog).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import BOT_NICK, CHANNEL, GROUP, human, running_bridge
from tests.support.ircd import IrcServer
from tests.support.roster import config_for, in_chat, irc_ask, tg_one

HELP_DE = """\
/help [Befehl] — die Befehle auflisten oder einen erklären
/join — Mitglied werden
/interests [Wort, Wort, … | +Wort -Wort] — zeigen oder festlegen, woran du arbeitest
/whois <Name oder Interesse> — die Karte eines Mitglieds oder wer ein Interesse nennt
/members — wie viele Mitglieder es gibt und die häufigsten Interessen
/names — wer gerade auf der anderen Seite der Brücke ist
/leave — dich endgültig aus dem Verzeichnis löschen
/link [CODE] — deine Telegram- und IRC-Identität zu einem Mitglied verknüpfen
/listed [yes|no] — zeigen oder wählen, ob du im Web-Verzeichnis stehst
/askme [yes|no] — zeigen oder wählen, ob Mitglieder dich zu deinen Interessen fragen dürfen
/ask <Interesse> <Frage> — privat die Mitglieder fragen, die sich mit etwas auskennen
/language [Code] — die Sprache meiner Antworten zeigen oder wählen
/export — das Verzeichnis als CSV und JSON, privat geschickt (Moderation)
/remove <#Nummer, Name, @Nutzername oder Nick> — ein Mitglied endgültig aus dem Verzeichnis \
löschen (Moderation)
/untag <Wort> — ein Schlagwort bei allen Mitgliedern entfernen (Moderation)
Details: /help <Befehl>"""

HELP_FR = """\
/help [commande] — lister les commandes, ou en expliquer une
/join — vous inscrire dans l’annuaire
/interests [mot, mot, … | +mot -mot] — afficher ou définir ce sur quoi vous travaillez
/whois <nom ou intérêt> — la fiche d’un membre, ou qui a un intérêt
/members — combien de membres, et les intérêts les plus courants
/names — qui est de l’autre côté du pont en ce moment
/leave — vous supprimer définitivement de l’annuaire
/link [CODE] — réunir vos identités Telegram et IRC en un seul membre
/listed [yes|no] — afficher ou choisir si l’annuaire web vous affiche
/askme [yes|no] — afficher ou choisir si des membres peuvent vous interroger sur vos intérêts
/ask <intérêt> <question> — poser une question en privé aux membres qui ont un intérêt
/language [code] — afficher ou choisir la langue de mes réponses
/export — l’annuaire en CSV et JSON, envoyé en privé (modération)
/remove <#numéro, nom, @identifiant ou pseudo> — supprimer définitivement un membre de \
l’annuaire (modération)
/untag <mot> — retirer un mot-clé à tous les membres (modération)
Détails : /help <commande>"""

HELP_ES = """\
/help [comando] — listar los comandos o explicar uno
/join — hacerte miembro
/interests [etiqueta, etiqueta, … | +etiqueta -etiqueta] — ver o indicar en qué trabajas
/whois <nombre o interés> — la ficha de un miembro o quién tiene un interés
/members — cuántos miembros hay y los intereses más comunes
/names — quién está ahora al otro lado del puente
/leave — borrarte del directorio para siempre
/link [CÓDIGO] — unir tus identidades de Telegram e IRC en un solo miembro
/listed [yes|no] — ver o elegir si apareces en el directorio web
/askme [yes|no] — ver o elegir si los miembros pueden preguntarte sobre tus intereses
/ask <interés> <pregunta> — preguntar en privado a los miembros que saben de un tema
/language [código] — ver o elegir el idioma en que te respondo
/export — el directorio en CSV y JSON, enviado en privado (moderación)
/remove <#número, nombre, @usuario o nick> — borrar a un miembro del directorio para siempre \
(moderación)
/untag <etiqueta> — quitar una etiqueta a todos los miembros (moderación)
Detalles: /help <comando>"""

HELP_EN = """\
/help [command] — list the commands, or explain one
/join — join the members roster
/interests [tag, tag, … | +tag -tag] — show or set what you work on
/whois <name or interest> — a member's card, or who lists an interest
/members — how many members, and the most common interests
/names — who is on the other side of the bridge now
/leave — delete yourself from the roster, for good
/link [CODE] — join your Telegram and IRC identities into one member
/listed [yes|no] — show or choose whether the web directory lists you
/askme [yes|no] — show or choose whether members may ask you about your interests
/ask <interest> <question> — ask the members who know an interest, privately
/language [code] — show or choose the language I answer you in
/export — the roster as CSV and JSON, sent privately (moderators)
/remove <#number, name, @username or nick> — delete a member from the roster, for good \
(moderators)
/untag <tag> — take an interest tag away from every member (moderators)
Details: /help <command>"""

HELP_HELP_FR = (
    "Utilisation : /help [commande]\n"
    "Sans commande : une ligne par commande. Avec une : son utilisation et ses détails."
)
HELP_HELP_DE = (
    "Aufruf: /help [Befehl]\n"
    "Ohne Befehl: eine Zeile pro Befehl. Mit einem: sein Aufruf und Details."
)


def with_pair_language(config: Path, language: str) -> Path:
    """The test config, its one pair speaking language ([[bridge]] language)."""
    text = config.read_text(encoding="utf-8")
    pair = f'irc_channel = "{CHANNEL}"\n'
    assert text.count(pair) == 1
    config.write_text(text.replace(pair, pair + f'language = "{language}"\n'), encoding="utf-8")
    return config


@pytest.mark.slow
async def test_help_in_the_language_of_the_telegram_app(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config):
        cases = [
            ("de", HELP_DE),
            ("fr", HELP_FR),
            ("es-MX", HELP_ES),
            ("tlh", HELP_EN),
            (None, HELP_EN),
        ]
        for i, (code, expected) in enumerate(cases):
            person = TgUser(2001 + i, "Kim", language_code=code)
            fake_tg.add_private_chat(person)
            assert await tg_one(fake_tg, person, "/help", chat=person.id) == expected, code


@pytest.mark.slow
async def test_a_language_choice_overrides_the_app_and_survives_a_restart(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    greta = TgUser(2101, "Greta", language_code="de")
    fake_tg.add_private_chat(greta)
    fake_tg.add_member(GROUP, greta)  # /language is for the community
    async with running_bridge(config):
        assert await tg_one(fake_tg, greta, "/language", chat=greta.id) == (
            "Ich antworte dir auf Deutsch. Ich spreche: de (Deutsch), en (English), "
            "es (español), fr (français). /language de wählt eine aus; /language auto kehrt "
            "zur Sprache deiner App zurück."
        )
        assert await tg_one(fake_tg, greta, "/language FR", chat=greta.id) == (
            "C’est fait : je vous réponds désormais en français."
        )
        assert await tg_one(fake_tg, greta, "/help help", chat=greta.id) == HELP_HELP_FR
    async with running_bridge(config):  # the choice is kept
        assert await tg_one(fake_tg, greta, "/help help", chat=greta.id) == HELP_HELP_FR
        assert await tg_one(fake_tg, greta, "/language klingon", chat=greta.id) == (
            'Je ne parle pas "klingon". Je parle : de (Deutsch), en (English), es (español), '
            "fr (français)."
        )
        assert await tg_one(fake_tg, greta, "/language auto", chat=greta.id) == (
            "C’est fait : je vous réponds de nouveau dans la langue de votre appli."
        )
        assert await tg_one(fake_tg, greta, "/help help", chat=greta.id) == HELP_HELP_DE


@pytest.mark.slow
async def test_on_irc_language_then_help_in_french(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            assert await irc_ask(bob, CHANNEL, "!language fr") == [
                "C’est fait : je vous réponds désormais en français."
            ]
            lines = await irc_ask(bob, BOT_NICK, "!help", count=16)
            assert lines == HELP_FR.replace("/", "!").splitlines()
            # the channel hears the pair's language (the default), whoever asks
            assert await irc_ask(bob, CHANNEL, "!help nosuch") == [
                'There is no command "nosuch". !help lists them all.'
            ]
        finally:
            await bob.close()


@pytest.mark.slow
async def test_a_group_answer_follows_the_pairs_language(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = with_pair_language(config_for(tmp_path, fake_tg, ngircd), "es")
    greta = TgUser(2201, "Greta", language_code="de")
    fake_tg.add_private_chat(greta)
    async with running_bridge(config):
        assert await tg_one(fake_tg, greta, "/help help") == (
            "Uso: /help [comando]\nSin comando: una línea por comando. Con uno: su uso y detalles."
        )
        # a long answer goes privately, in her own language; the pointer in the group's
        fake_tg.push_text(GROUP, greta, "/help")
        [pointer] = await fake_tg.wait_sent(in_chat(GROUP))
        assert pointer.visible_text == "Te envié la lista de comandos en privado."
        [private] = await fake_tg.wait_sent(in_chat(greta.id))
        assert private.visible_text == HELP_DE
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            assert await irc_ask(bob, CHANNEL, "!help nosuch") == [
                'No existe el comando "nosuch". !help los muestra todos.'
            ]
        finally:
            await bob.close()


@pytest.mark.slow
async def test_the_command_menu_is_set_in_every_language(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config):
        await fake_tg.wait_call("setMyCommands", 5)
    menus = fake_tg.my_commands
    assert sorted(menus) == ["", "de", "en", "es", "fr"]
    names = [c["command"] for c in menus[""]]
    assert names == [
        "help", "join", "interests", "whois", "members", "names", "leave", "link", "listed",
        "askme", "ask", "language",
    ]  # fmt: skip
    assert all([c["command"] for c in menu] == names for menu in menus.values())
    described = {code: menu[0]["description"] for code, menu in menus.items()}
    assert described == {
        "": "list the commands, or explain one",
        "en": "list the commands, or explain one",
        "de": "die Befehle auflisten oder einen erklären",
        "es": "listar los comandos o explicar uno",
        "fr": "lister les commandes, ou en expliquer une",
    }


@pytest.mark.slow
async def test_a_question_reaches_each_member_in_their_language(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    ines = TgUser(2301, "Inés", username="ines_tg", language_code="es")
    greta = TgUser(2302, "Greta", language_code="de")
    async with running_bridge(config):
        for person, language in ((ines, "es"), (greta, "de")):
            fake_tg.add_private_chat(person)
            fake_tg.add_member(GROUP, person)
            for command in ("/interests python", "/askme yes", f"/language {language}"):
                await tg_one(fake_tg, person, command, chat=person.id)
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            [answer] = await irc_ask(bob, CHANNEL, "!ask python ¿alguien usa asyncio?")
            assert answer == "Your question on python went to 2 members now."
            for person, expected in (
                (
                    ines,
                    "Pregunta sobre python de bob (nick de IRC bob en #bridge): "
                    "«¿alguien usa asyncio?»\nRespóndele allí si puedes. Te llega porque "
                    "elegiste /askme yes; /askme no detiene estos mensajes.",
                ),
                (
                    greta,
                    "Frage zu python von bob (IRC-Nick bob in #bridge): "
                    "„¿alguien usa asyncio?“\nAntworte dort, wenn du kannst. Du bekommst das, "
                    "weil du /askme yes gesagt hast; /askme no beendet solche Fragen.",
                ),
            ):
                [received] = await fake_tg.wait_sent(in_chat(person.id))
                assert received.visible_text == expected
        finally:
            await bob.close()
