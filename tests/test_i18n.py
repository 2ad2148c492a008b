"""The interface in English, Japanese and German: every message of the catalogs translated,
the language chosen by the person's setting else the browser's, numbers and dates written the
locale's way, and the catalogs up to date with the templates and code."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import i18n
from app.models import User
from tests.clients import browser_login, soup
from tests.factories import make_annotator
from tests.paths import REPO

TRANSLATED = [locale for locale in i18n.LOCALES if locale != i18n.DEFAULT]


def catalog(locale: str):  # type: ignore[no-untyped-def]
    with (REPO / "locale" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def extracted(tmp_path: Path):  # type: ignore[no-untyped-def]
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "N_", "--no-location", "-o", str(pot), "."],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as f:
        return read_po(f)


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_is_translated(locale: str) -> None:
    missing = [m.id for m in catalog(locale) if m.id and not all(
        m.string if isinstance(m.string, tuple) else (m.string,))]  # fmt: skip
    fuzzy = [m.id for m in catalog(locale) if m.id and m.fuzzy]
    assert missing == [] and fuzzy == []


def test_the_catalogs_hold_every_message_of_the_templates_and_code(tmp_path: Path) -> None:
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in extracted(tmp_path) if m.id}
    assert len(wanted) > 200
    for locale in TRANSLATED:
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(locale) if m.id}
        assert wanted - have == set(), f"run `make messages` and translate ({locale})"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_placeholders_survive_translation(locale: str) -> None:
    """Every translation names exactly the values its English names: none dropped (a sentence
    that would lose its figure), none invented (a KeyError when it is shown)."""
    import re

    names = re.compile(r"%\((\w+)\)[sd]")
    wrong = []
    for message in catalog(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        want = set().union(*(names.findall(text) for text in ids))
        wrong += [(ids[0], text) for text in strings if set(names.findall(text)) != want]
    assert wrong == []


@pytest.mark.parametrize(
    ("chosen", "header", "expected"),
    [
        (None, "de-DE,de;q=0.9,en;q=0.8", "de"),
        (None, "fr-FR, ja;q=0.5, de;q=0.4", "ja"),
        (None, "en;q=0.1, de;q=0.9", "de"),
        ("ja", "de", "ja"),
        ("xx", "de", "de"),
        (None, "", "en"),
        (None, "fr", "en"),
        (None, "de;q=nonsense, ja", "ja"),
    ],
)
def test_the_language_is_the_setting_else_the_browsers(
    chosen: str | None, header: str, expected: str
) -> None:
    assert i18n.negotiate(chosen, header) == expected


def test_numbers_and_dates_are_written_the_locales_way() -> None:
    moment = datetime(2026, 12, 3, 18, 51, tzinfo=UTC)
    assert i18n.number(1234567, "de") == "1.234.567"
    assert i18n.number(1234567, "ja") == "1,234,567"
    assert i18n.percent(0.473, "de") == "47\xa0%"  # a no-break space, as German writes it
    assert (i18n.percent(0.55, "en", 1), i18n.percent(0.55, "de", 1)) == ("55.0%", "55,0\xa0%")
    assert i18n.when(moment, "de").startswith("03.12.2026")
    assert i18n.when(moment, "ja").startswith("2026/12/03")
    assert (i18n.day(moment, "de"), i18n.day(moment, "ja")) == ("03.12.2026", "2026/12/03")


def test_the_login_page_follows_accept_language(client: TestClient) -> None:
    page = soup(client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"}).text)
    assert page.html["lang"] == "de"  # type: ignore[index]
    assert page.select_one("h1").get_text() == "Anmelden"  # type: ignore[union-attr]
    japanese = soup(client.get("/login", headers={"Accept-Language": "ja"}).text)
    assert japanese.select_one("h1").get_text() == "ログイン"  # type: ignore[union-attr]


def test_a_persons_setting_wins_over_the_browser(client: TestClient, session: Session) -> None:
    ann = make_annotator(session, username="ann")
    session.commit()
    csrf = browser_login(client, ann)
    chosen = client.post("/language", data={"locale": "ja", "next": "/", "csrf_token": csrf},
                         headers={"Accept-Language": "de"}, follow_redirects=False)  # fmt: skip
    assert chosen.status_code == 303 and chosen.headers["location"] == "/"
    session.expire_all()
    assert session.get(User, ann.id).locale == "ja"  # type: ignore[union-attr]
    session.commit()
    client.cookies.clear()  # the account's setting, not the cookie
    csrf = browser_login(client, ann)
    home = soup(client.get("/", headers={"Accept-Language": "de"}).text)
    assert home.html["lang"] == "ja"  # type: ignore[index]
    assert home.select_one("h1").get_text() == "マイプロジェクト"  # type: ignore[union-attr]
    client.post("/language", data={"locale": "", "next": "/", "csrf_token": csrf})
    back = soup(client.get("/", headers={"Accept-Language": "de"}).text)
    assert back.html["lang"] == "de", "no setting: the browser's language again"  # type: ignore[index]


def test_a_day_and_a_kept_timestamp_are_written_as_every_page_writes_them() -> None:
    moment = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)
    assert i18n.day(date(2026, 11, 3), "de") == i18n.day(moment, "de") == "03.11.2026"
    assert i18n.day(date(2026, 11, 3), "ja") == "2026/11/03"
    kept = "2026-11-03T23:30:00.000000Z"  # as an export's manifest keeps it
    assert i18n.when(kept, "en") == i18n.when(moment, "en") == "Nov 3, 2026, 11:30:00\u202fPM"
