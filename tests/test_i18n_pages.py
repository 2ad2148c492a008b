"""The pages in Japanese and German hold no English left over: every text and label a person
reads (outside what the users wrote: prompts, answers, names, code) is checked against the
catalog's English messages and for English sentences."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Project
from tests.clients import browser_login, soup
from tests.factories import make_annotator
from tests.factories_admin import HX, admin_client
from tests.factories_models import simulated_project
from tests.factories_review import make_review_project
from tests.paths import REPO

USER_CONTENT = "script, style, pre, code, kbd, bdi, time, [dir=auto], .prose, .spec, .raw"
"""What the people using the app wrote (or machine text): never translated."""
READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "data-label", "data-more",
                   "data-less")  # fmt: skip
ENGLISH = frozenset([
    "the", "and", "of", "is", "are", "this", "that", "with", "your", "you", "not", "has",
    "have", "for", "yet", "from", "each", "every", "which", "what", "when", "there", "here",
    "been", "none", "only", "than", "its", "be", "by", "on", "at", "or", "if", "can", "were",
    "to",
])  # fmt: skip
"""Words that no Japanese or German sentence of the interface uses: two of them in one text
mean an English sentence (German shares "in", "an", "was", "will", "so": left out)."""


def english_messages(locale: str) -> set[str]:
    """The catalog's English messages that the locale writes otherwise."""
    with (REPO / "locale" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=locale)
    found: set[str] = set()
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in map(str, ids):
            if english and re.search("[A-Za-z]{3}", english) and english not in strings:
                found.add(english.strip())
    return found


def leftovers(html: str, known: set[str]) -> list[str]:
    """The texts of a page that are still English."""
    page: BeautifulSoup = soup(html)
    for element in page.select(USER_CONTENT):
        element.decompose()
    texts = [" ".join(s.split()) for s in page.find_all(string=True)]
    texts += [str(tag[name]) for tag in page.find_all(True) for name in READ_ATTRIBUTES
              if tag.has_attr(name)]  # fmt: skip
    found = []
    for text in texts:
        words = re.findall(r"[a-z]+", text.lower())
        if text.strip(" .:·()") in known or sum(word in ENGLISH for word in words) >= 2:
            found.append(text)
    return found


@pytest.fixture
def projects(session: Session) -> tuple[Project, Project]:
    review, _ = make_review_project(session)
    models = simulated_project(session, prompts=12)
    session.commit()
    return review, models


@pytest.mark.parametrize("locale", ["ja", "de"])
def test_no_english_is_left_on_the_admin_pages(
    client: TestClient, session: Session, projects: tuple[Project, Project], locale: str
) -> None:
    review, models = projects
    admin = admin_client(client, session)
    item = client.get(f"/admin/projects/{review.slug}/items").text
    first_item = soup(item).select_one("table.items th a")["href"]  # type: ignore[index]
    pages = [
        "/admin", "/admin/people", f"/admin/people/{admin.id}", "/admin/projects/new",
        f"/admin/projects/{review.slug}", f"/admin/projects/{review.slug}/dashboard",
        f"/admin/projects/{review.slug}/items", str(first_item),
        f"/admin/projects/{review.slug}/items?agreement_below=2",
        f"/admin/projects/{review.slug}/members", f"/admin/projects/{review.slug}/settings",
        f"/admin/projects/{review.slug}/export", f"/admin/projects/{review.slug}/models",
        f"/admin/projects/{models.slug}/leaderboard", f"/admin/projects/{models.slug}/dashboard",
        f"/admin/projects/{review.slug}/leaderboard", "/nope",
    ]  # fmt: skip
    known = english_messages(locale)
    assert "Can these labels be trusted?" in known
    found = {}
    for path in pages:
        response = client.get(path, headers={"Accept-Language": locale})
        assert response.status_code in (200, 404, 422), path
        assert soup(response.text).html["lang"] == locale  # type: ignore[index]
        found[path] = leftovers(response.text, known)
    assert {path: texts for path, texts in found.items() if texts} == {}


@pytest.mark.parametrize("locale", ["ja", "de"])
def test_no_english_is_left_on_the_labelling_pages(
    client: TestClient, session: Session, projects: tuple[Project, Project], locale: str
) -> None:
    review, _ = projects
    carol = make_annotator(session, username="carol")
    session.commit()
    known = english_messages(locale)
    login = client.get("/login", headers={"Accept-Language": locale}).text
    assert leftovers(login, known) == []
    browser_login(client, carol)
    headers = {"Accept-Language": locale}
    labelling = client.get(f"/projects/{review.slug}/annotate", headers=headers).text
    assert soup(labelling).select_one("#flag-item") is not None, "a pair is on the page"
    found = {}
    for path in ("/", f"/projects/{review.slug}/annotate", f"/projects/{review.slug}/history"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        found[path] = leftovers(response.text, known)
    assert {path: texts for path, texts in found.items() if texts} == {}


def test_the_check_finds_english(client: TestClient) -> None:
    """The detector itself: the English login page fails it, for either locale's catalog."""
    english = client.get("/login", headers={"Accept-Language": "en"}).text
    assert "Log in" in leftovers(english, english_messages("de"))
    assert leftovers("<p>Nothing is here yet for you.</p>", set()) != []
    assert leftovers("<p dir='auto'>Nothing is here yet for you.</p>", set()) == []


def test_a_message_from_the_code_is_english_for_the_api_and_translated_on_a_page() -> None:
    from app.errors import Invalid
    from app.i18n import N_, Text, ngettext, translate

    error = Invalid(N_("rationale: at most %(n)s characters"), field="rationale", n=10000)
    assert str(error) == "rationale: at most 10,000 characters"  # the API's detail, as before
    assert translate(error.text, "de") == "Begründung: höchstens 10.000 Zeichen"
    waited = ngettext("Too many failed logins. Try again in %(n)s minute.",
                      "Too many failed logins. Try again in %(n)s minutes.", 2)  # fmt: skip
    assert waited == "Too many failed logins. Try again in 2 minutes."
    assert translate(waited, "de").endswith("in 2 Minuten erneut.")
    kept = Text.load(waited.dump())  # through the session cookie
    assert kept == waited and translate(kept, "ja") == translate(waited, "ja")
    assert Text.load("Saved.") == "Saved." and Text.load(None) is None


def test_a_dashboard_figure_is_written_the_locales_way(
    client: TestClient, session: Session, projects: tuple[Project, Project]
) -> None:
    from app import i18n

    assert (i18n.decimal(29.23, "de"), i18n.decimal(20, "en")) == ("29,2", "20.0")
    review, _ = projects
    admin_client(client, session)
    url = f"/admin/projects/{review.slug}/dashboard"
    german = soup(client.get(url, headers={"Accept-Language": "de"}).text)
    english = soup(client.get(url, headers={"Accept-Language": "en"}).text)

    def figure(page: BeautifulSoup, label: str) -> str:
        return page.find("dt", string=label).find_next("dd").get_text(strip=True)  # type: ignore[union-attr]

    median = (
        figure(german, "Zeit pro Urteil (Median)"),
        figure(english, "Median time per judgement"),
    )
    assert median[0] == median[1].replace(".", ",") and "," in median[0]
    tie_rate = figure(german, "Anteil Unentschieden"), figure(english, "Tie rate")
    assert tie_rate[0] == tie_rate[1].replace(".", ",").replace("%", "\xa0%")
    assert tie_rate[1].endswith("%") and not tie_rate[1].endswith(" %")


@pytest.mark.parametrize("locale", ["ja", "de"])
def test_a_flashed_message_and_a_refusal_are_shown_translated(
    client: TestClient, session: Session, projects: tuple[Project, Project], locale: str
) -> None:
    review, _ = projects
    admin_client(client, session)
    headers = {"Accept-Language": locale}
    items = soup(client.get(f"/admin/projects/{review.slug}/items").text)
    url = str(items.select_one("table.items th a")["href"])  # type: ignore[index]
    done = client.post(f"{url}/adjudication", data={"verdict": "tie"}, headers=headers)
    notice = soup(done.text).select_one("p.notice").get_text()  # type: ignore[union-attr]
    assert (
        notice
        == {
            "de": "Entschieden: Unentschieden. Jeder Export verwendet das nun.",
            "ja": "裁定しました：引き分け。今後のエクスポートはすべてこれを使います。",
        }[locale]
    )
    refused = client.post("/admin/people", data={"username": "x" * 65}, headers=headers)
    alert = soup(refused.text).select_one("p.alert").get_text()  # type: ignore[union-attr]
    assert alert == {"de": "Ein Benutzername hat 1 bis 64 Zeichen.",
                     "ja": "ユーザー名は 1〜64 文字にしてください。"}[locale]  # fmt: skip


@pytest.mark.parametrize("locale", ["ja", "de"])
def test_a_refused_settings_form_says_why_in_the_pages_language(
    client: TestClient, session: Session, projects: tuple[Project, Project], locale: str
) -> None:
    review, models = projects
    admin_client(client, session)
    headers = {"Accept-Language": locale}

    def refusal(url: str, field: str, **data: str) -> str:
        response = client.post(url, data={"overlap": "1", **data}, headers=headers)
        assert response.status_code == 422
        return soup(response.text).select_one(f"#{field}-error").get_text()  # type: ignore[union-attr]

    taken = refusal("/admin/projects", "name", name=review.name)
    assert taken == {"de": f"Projekt {review.name!r} gibt es schon.",
                     "ja": f"プロジェクト {review.name!r} はすでにあります。"}[locale]  # fmt: skip
    assert models.slug != models.name
    slug = refusal("/admin/projects", "name", name=models.slug)
    assert (
        slug
        == {
            "de": f"{models.slug!r} ist das Kürzel des Projekts {models.name!r}; wählen Sie einen "
            "anderen Namen.",
            "ja": f"{models.slug!r} はプロジェクト {models.name!r} の短縮名です。"
            "別の名前を選んでください。",
        }[locale]
    )
    fixed = refusal(f"/admin/projects/{review.slug}/settings", "protocol", name=review.name,
                    protocol="rating")  # fmt: skip
    assert fixed.startswith({"de": "Steht fest, sobald ein Batch importiert ist",
                             "ja": "バッチを取り込んだ後は変更できません"}[locale])  # fmt: skip


def test_the_agreement_figures_are_written_the_locales_way(
    client: TestClient, session: Session, projects: tuple[Project, Project]
) -> None:
    from app import i18n

    assert (i18n.significant(0.0123456, "de"), i18n.significant(1.234e-7, "de")) == (
        "0,0123", "< 0,0001"
    )  # fmt: skip
    assert i18n.significant(0.0123456, "en") == f"{0.0123456:.3g}"
    review, _ = projects
    admin_client(client, session)
    url = f"/admin/projects/{review.slug}/dashboard"
    figures = {}
    for locale in ("de", "ja", "en"):
        page = soup(client.get(url, headers={"Accept-Language": locale}).text)
        alpha = page.select("section.trust dl.figures dd")[0].get_text(strip=True)
        rows = page.select("table.annotators tbody tr")
        p_values = [row.select("td")[6].get_text(strip=True) for row in rows]
        figures[locale] = [alpha, *p_values]
    alpha, *p_values = figures["en"]
    assert re.fullmatch(r"-?[01]\.[0-9]{3}", alpha) and any("." in p for p in p_values)
    assert figures["ja"] == figures["en"]
    assert figures["de"] == [figure.replace(".", ",") for figure in figures["en"]]


@pytest.mark.parametrize("locale", ["ja", "de"])
def test_an_imports_summary_and_refusals_are_shown_in_the_pages_language(
    client: TestClient, session: Session, locale: str
) -> None:
    from tests.factories import jsonl, make_project, native_rows

    project = make_project(session)
    admin_client(client, session)
    headers = {"Accept-Language": locale}
    url = f"/admin/projects/{project.slug}/batches"
    rows = jsonl(native_rows(3, candidates=3))
    files = {"file": ("batch.jsonl", rows, "application/jsonl")}
    done = client.post(url, files=files, headers={**headers, **HX})
    notice = soup(done.text).select_one("#import-result").get_text()  # type: ignore[union-attr]
    said = {
        "de": "Batch.jsonl: 3 Zeilen gelesen: 3 Prompts, 9 Kandidaten, 9 Vergleiche hinzugefügt.",
        "ja": "Batch.jsonl：3 行を読み込み、プロンプト 3 件、候補 9 件、比較 9 件を追加しました。",
    }
    assert notice == said[locale]
    again = client.post(url, files=files, headers={**headers, **HX})
    notice = soup(again.text).select_one("#import-result").get_text()  # type: ignore[union-attr]
    assert notice.endswith({"de": "nichts hinzugefügt.", "ja": "何も追加していません。"}[locale])
    refused = client.post(url, data={"name": "x"}, headers=headers)
    errors = soup(refused.text).select_one("#import-errors").get_text(" ")  # type: ignore[union-attr]
    assert {"de": "wählen Sie eine Datei zum Hochladen",
            "ja": "アップロードするファイルを選んでください"}[locale] in errors  # fmt: skip
    shown = client.post(f"{url}/preview", data={"name": "x"}, headers=headers)
    listed = soup(shown.text).select_one(".error-list")
    problems = listed.get_text(strip=True)  # type: ignore[union-attr]
    none_chosen = {"de": "Zeile 1: file: wählen Sie eine Datei für die Vorschau",
                   "ja": "1 行目：file：プレビューするファイルを選んでください"}  # fmt: skip
    assert problems == none_chosen[locale]
    bad = jsonl([*native_rows(1), ["not", "an", "object"]])
    files = {"file": ("bad.jsonl", bad, "application/jsonl")}
    shown = client.post(f"{url}/preview", files=files, headers=headers)
    listed = soup(shown.text).select_one(".error-list")
    problems = listed.get_text(strip=True)  # type: ignore[union-attr]
    assert problems == {"de": "Zeile 2: row: ein JSON-Objekt erwartet",
                        "ja": "2 行目：row：JSON オブジェクトが必要です"}[locale]  # fmt: skip


def test_the_import_summary_stays_english_for_the_api_and_command_line() -> None:
    from app.i18n import Text, translate
    from app.importing import ImportResult
    from app.importing.ingest import Counts

    counts = Counts(rows=2, prompts=1, candidates=2, comparisons=1, duplicates=1)
    result = ImportResult(1, None, counts, "", 0)
    assert result.summary() == (
        "2 rows read: 1 prompt, 2 candidates, 1 comparison added, 1 row already present."
    )
    assert result.shown() == result.summary()
    kept = Text.load(Text("%(file)s: %(summary)s", file="f", summary=result.shown()).dump())
    assert translate(kept, "de") == (
        "f: 2 Zeilen gelesen: 1 Prompt, 2 Kandidaten, 1 Vergleich hinzugefügt, 1 Zeile schon "
        "vorhanden."
    )


@pytest.mark.parametrize("locale", ["ja", "de"])
def test_a_refused_files_row_errors_are_shown_in_the_pages_language(
    client: TestClient, session: Session, locale: str
) -> None:
    from tests.factories import jsonl, make_project, native_rows

    project = make_project(session)
    admin_client(client, session)
    rows = [
        *native_rows(1),
        {"prompt": "x", "candidates": ["only one"]},
        {"prompt": "y", "oops": 1},
    ]
    files = {"file": ("bad.jsonl", jsonl(rows), "application/jsonl")}
    refused = client.post(f"/admin/projects/{project.slug}/batches", files=files,
                          headers={"Accept-Language": locale})  # fmt: skip
    assert refused.status_code == 422
    listed = soup(refused.text).select("#import-errors li")
    shown = {li.select_one("code").get_text(): li.select_one("[dir=auto]").get_text()  # type: ignore[union-attr]
             for li in listed}  # fmt: skip
    assert (
        shown["candidates"]
        == {
            "de": "mindestens 2 nötig (1 ist nur in Projekten erlaubt, die einzelne Antworten "
            "bewerten)",
            "ja": "2 件以上必要です（1 件は、単独の回答を評価するプロジェクトでのみ使えます）",
        }[locale]
    )
    unknown = {"de": "unbekanntes Feld (zusätzliche Daten gehören in meta)",
               "ja": "不明なフィールドです（追加のデータは meta に入れてください）"}  # fmt: skip
    assert shown["oops"] == unknown[locale]
    assert leftovers(refused.text, english_messages(locale)) == []


def _listed(html: str, where: str) -> dict[str, str]:
    """``field: message`` of the problems a page lists under ``where``."""
    found = {}
    for li in soup(html).select(f"{where} li"):
        field = li.select_one("code")
        text = li.select_one("[dir=auto]") if field else li
        found[field.get_text() if field else str(len(found))] = text.get_text()  # type: ignore[union-attr]
    return found


ROW_ERRORS = {
    "de": {
        "messages[0].role": "muss system, user oder assistant sein ('bot' erhalten)",
        "candidates[0].model": "länger als 200 Zeichen (201)",
        "candidates[0]": "muss ein Objekt oder eine Zeichenkette sein",
        "candidates[0].content": "länger als 200.000 Zeichen (200.001)",
        "candidates[1]": "derselbe Text wie candidates[0]",
        "gold": 'der Index des besseren Kandidaten (0 oder 1), "tie" oder "both_bad"',
    },
    "ja": {
        "messages[0].role": "system、user、assistant のいずれかである必要があります"
        "（'bot' でした）",
        "candidates[0].model": "200 文字を超えています（201 文字）",
        "candidates[0]": "オブジェクトまたは文字列である必要があります",
        "candidates[0].content": "200,000 文字を超えています（200,001 文字）",
        "candidates[1]": "candidates[0] と同じテキストです",
        "gold": '良い方の候補のインデックス（0 か 1）、"tie" または "both_bad" にしてください',
    },
}
CELLS = {"de": "3 Zellen, aber die Kopfzeile nennt 2",
         "ja": "セルが 3 個ありますが、ヘッダーの列は 2 個です"}  # fmt: skip
UNKNOWN_FIELD = {"de": "unbekanntes Feld 'nope' (eines von ", "ja": "不明な項目 'nope' です（"}
FILE_PROBLEMS = {
    "x.jsonl.gz": (b"{}", {"de": "Zeile 1: file: heißt .jsonl.gz, ist aber nicht mit gzip "
                                 "komprimiert",
                           "ja": "1 行目：file：名前は .jsonl.gz ですが gzip で"
                                 "圧縮されていません"}),
    "x.csv": (b'{"a": 1}\n', {"de": "Zeile 1: file: heißt .csv, enthält aber JSON: nennen Sie "
                                    "sie .jsonl oder .json",
                              "ja": "1 行目：file：名前は .csv ですが中身は JSON です。.jsonl か "
                                    ".json という名前にしてください"}),
    "x.txt": (b"hello", {"de": "Zeile 1: file: JSON Lines (ein Objekt pro Zeile) oder ein "
                               "JSON-Array erwartet; andere Dateien werden nach ihrer Endung "
                               "gelesen (.jsonl, .json, .csv, .tsv oder .parquet, wahlweise mit "
                               "gzip (.gz))",
                         "ja": "1 行目：file：JSON Lines（1 行に 1 オブジェクト）か JSON 配列が必要"
                               "です。その他のファイルは拡張子で判断します（.jsonl、.json、.csv、"
                               ".tsv、.parquet。gzip 圧縮（.gz）も可）"}),
    "x.jsonl": (b'{"prompt": \n', {"de": "Zeile 1: row: ungültiges JSON (unexpected end of data)",
                                   "ja": "1 行目：row：不正な JSON です"
                                         "（unexpected end of data）"}),
    "x.json": (b'[{"prompt": "p"} {}]', {"de": "Zeile 1: file: nach einer Zeile wird ',' oder ']' "
                                              "erwartet",
                                        "ja": "1 行目：file：行の後には ',' か ']' が必要です"}),
    "y.jsonl.gz": (b"\x1f\x8b\x08\x00broken", {
        "de": "Zeile 1: file: der gzip-Datenstrom ist beschädigt oder abgeschnitten",
        "ja": "1 行目：file：gzip のデータが壊れているか途中で切れています"}),
}  # fmt: skip


def _listed(html: str, where: str) -> dict[str, str]:
    """``field: message`` of the problems a page lists under ``where`` (a preview's whole
    lines, by position)."""
    found = {}
    for li in soup(html).select(f"{where} li"):
        field = li.select_one("code")
        text = li.select_one("[dir=auto]") if field else li
        found[field.get_text() if field else str(len(found))] = text.get_text()  # type: ignore[union-attr]
    return found


@pytest.mark.parametrize("locale", ["ja", "de"])
def test_row_errors_with_values_are_shown_in_the_pages_language(
    client: TestClient, session: Session, locale: str
) -> None:
    from tests.factories import jsonl, make_project

    project = make_project(session)
    admin_client(client, session)
    headers = {"Accept-Language": locale}
    url = f"/admin/projects/{project.slug}/batches"
    rows = [
        {"messages": [{"role": "bot", "content": "x"}], "candidates": ["a", "b"]},
        {"prompt": "p", "candidates": [{"content": "a", "model": "m" * 201}, "b"]},
        {"prompt": "o", "candidates": [5, "b"]},
        {"prompt": "s", "candidates": ["x" * 200_001, "b"]},
        {"prompt": "q", "candidates": ["same", "same"]},
        {"prompt": "r", "candidates": ["a", "b"], "gold": 7},
    ]
    files = {"file": ("bad.jsonl", jsonl(rows), "application/jsonl")}
    refused = client.post(url, files=files, headers=headers)
    assert refused.status_code == 422
    shown = _listed(refused.text, "#import-errors")
    assert {field: shown.get(field) for field in ROW_ERRORS[locale]} == ROW_ERRORS[locale]
    csv = b'prompt,candidates\nhi,"[""a"",""b""]"\nx,y,z\n'
    files = {"file": ("bad.csv", csv, "text/csv")}
    shown = _listed(client.post(url, files=files, headers=headers).text, "#import-errors")
    assert shown == {"row": CELLS[locale]}
    skipped = client.post(url, files=files, data={"skip_invalid": "true"}, headers=headers)
    assert _listed(skipped.text, "#import-skipped") == {"row": CELLS[locale]}
    mapped = client.post(url, files=files, data={"map": ["nope=x"]}, headers=headers)
    assert _listed(mapped.text, "#import-errors")["map"].startswith(UNKNOWN_FIELD[locale])
    for name, (body, said) in FILE_PROBLEMS.items():
        files = {"file": (name, body, "application/octet-stream")}
        shown = _listed(client.post(f"{url}/preview", files=files, headers=headers).text,
                        ".error-list")  # fmt: skip
        assert shown == {"0": said[locale]}, name
    shown = client.post(f"{url}/preview", files=files, data={"map": ["prompt"]}, headers=headers)
    assert _listed(shown.text, ".error-list") == {
        "0": {"de": "map: 'prompt' hat nicht die Form FELD=SPALTE",
              "ja": "map：'prompt' は 項目=列 の形ではありません"}[locale]
    }  # fmt: skip


def test_import_problems_keep_their_english_for_the_api_and_command_line() -> None:
    """The English of each problem built with values, byte for byte as before (the API's
    detail, the CLI's lines and --rejects print it)."""
    from app.i18n import translate
    from app.importing.containers import _cells, _header_problem
    from app.importing.mapping import MappingInvalid, parse_map
    from app.importing.pipeline import single_refused
    from app.importing.reader import FileTooLarge, invalid_json
    from app.importing.rows import RowKind, _must_be, too_long

    assert _cells(1234, 2) == "1234 cells, but the header names 2"
    assert _header_problem(["a", ""]) == "column 2 of the header has no name"
    assert _header_problem(["a", "a"]) == "the header names column 'a' twice"
    assert str(FileTooLarge(1024 << 20)) == "larger than the 1024 MB upload limit"
    assert invalid_json("unexpected end of data") == "invalid JSON (unexpected end of data)"
    assert too_long(200, 1201, grouped=False) == "longer than 200 characters (1,201)"
    assert too_long(200_000, 200_001) == "longer than 200,000 characters (200,001)"
    kinds = _must_be(["a string", "a list of messages", "an object"])
    assert kinds == "must be a string or a list of messages or an object"
    assert (
        translate(kinds, "de")
        == "muss eine Zeichenkette oder eine Liste von Nachrichten oder ein Objekt sein"
    )
    refused = single_refused(RowKind.KTO)
    assert refused == (
        "these rows hold one response each (TRL unpaired preference (prompt, completion, "
        "label)): import them into a project that rates single responses (protocol rating, "
        "or rate_singletons)"
    )
    assert "TRL-Präferenz ohne Paare" in translate(refused, "de")
    with pytest.raises(MappingInvalid) as caught:
        parse_map(["prompt=a", "prompt=b"])
    assert str(caught.value) == "map: prompt is mapped twice"
    assert translate(caught.value.text, "de") == "map: prompt ist zweimal zugeordnet"
    with pytest.raises(MappingInvalid) as caught:
        parse_map(["x"])
    assert str(caught.value) == "map: 'x' is not FIELD=COLUMN"


@pytest.mark.parametrize("locale", ["ja", "de"])
def test_the_settings_forms_refusals_and_a_malformed_form_are_in_the_pages_language(
    client: TestClient, session: Session, projects: tuple[Project, Project], locale: str
) -> None:
    review, _ = projects
    admin_client(client, session)
    headers = {"Accept-Language": locale}
    url = f"/admin/projects/{review.slug}/settings"

    def refused(field: str, **data: str) -> str:
        response = client.post(url, data={"name": review.name, **data}, headers=headers)
        assert response.status_code == 422
        return soup(response.text).select_one(f"#{field}-error").get_text()  # type: ignore[union-attr]

    said = {
        "de": ["A: max muss größer als min sein.",
               "Kein JSON: Expecting property name enclosed in double quotes: line 1 column 3 "
               "(char 2).",
               "Sollte höchstens 10 sein.", "Sollte mindestens 1 sein.",
               "Eine Zahl wird erwartet, kein Text und kein true/false.",
               "Sollte eines von 'pairwise', 'rating', 'ranking' sein.",
               "Status: erforderlich.",
               "Status: sollte eines von 'active', 'paused', 'archived' sein."],
        "ja": ["A：max は min より大きくする必要があります。",
               "JSON ではありません：Expecting property name enclosed in double quotes: line 1 "
               "column 3 (char 2).",
               "10 以下にしてください。", "1 以上にしてください。",
               "テキストや true/false ではなく数値が必要です。",
               "'pairwise', 'rating', 'ranking' のいずれかにしてください。",
               "Status：必須です。",
               "Status：'active', 'paused', 'archived' のいずれかにしてください。"],
    }  # fmt: skip
    shown = [
        refused("rubric", rubric='[{"name": "a", "min": 3, "max": 1}]'),
        refused("rubric", rubric="[{"),
        refused("rubric", rubric='[{"name": "a", "min": 1, "max": 30}]'),
        refused("overlap", overlap="0"),
        refused("overlap", overlap="x"),
        refused("protocol", protocol="x"),
    ]
    status = f"/admin/projects/{review.slug}/batches/1/status"
    for data in ({}, {"status": "x"}):
        page = client.post(status, data=data, headers=headers)
        assert page.status_code == 422
        shown.append(soup(page.text).select_one("main p").get_text())  # type: ignore[union-attr]
    assert shown == said[locale]
    english = client.post(status, data={"status": "x"}, headers={"Accept-Language": "en"})
    assert soup(english.text).select_one("main p").get_text() == (  # type: ignore[union-attr]
        "Status: Input should be 'active', 'paused' or 'archived'."
    )


def test_a_validation_message_keeps_pydantics_english() -> None:
    from pydantic import ValidationError

    from app.i18n import translate, validation_error
    from app.projects import ProjectSettings

    rubric = [{"name": "a", "min": 3, "max": 1}]
    with pytest.raises(ValidationError) as caught:
        ProjectSettings.model_validate({"name": " ", "overlap": 0, "rubric": rubric})
    errors = {str(e["loc"][0]): e for e in caught.value.errors()}
    assert errors["rubric"]["msg"] == "Value error, a: max must be above min"
    messages = {where: validation_error(error) for where, error in errors.items()}
    assert messages == {"name": "a project needs a name", "overlap":
                        "Input should be greater than or equal to 1",
                        "rubric": "a: max must be above min"}  # fmt: skip
    assert [translate(m, "de") for m in messages.values()] == [
        "ein Projekt braucht einen Namen", "sollte mindestens 1 sein",
        "a: max muss größer als min sein",
    ]  # fmt: skip
    assert translate(messages["overlap"], "en") == "Input should be greater than or equal to 1"


def test_the_leaderboard_and_progress_figures_are_written_the_locales_way(
    client: TestClient, session: Session, projects: tuple[Project, Project]
) -> None:
    from app import i18n
    from app.web.charts import interval_chart, share_chart

    assert (i18n.decimal(1012.4, "de", 0), i18n.decimal(1012.4, "en", 0)) == ("1.012", "1,012")
    assert i18n.decimal(12.4, "de", 0, signed=True) == "+12" == f"{12.4:+.0f}"
    chart = interval_chart([("m", 1012.4, 990.2, 1040.6)], "de")
    assert chart.rows[0].title == "m: 1.012 (990–1.041)"
    assert [t.label for t in share_chart([("a", 0.5, False)], locale="de").x_ticks][:2] == [
        "0\xa0%", "25\xa0%"
    ]  # fmt: skip
    review, models = projects
    admin_client(client, session)
    figures = {}
    for locale in ("de", "en"):
        page = soup(client.get(f"/admin/projects/{models.slug}/leaderboard",
                               headers={"Accept-Language": locale}).text)  # fmt: skip
        ratings = [row.select("td.num")[1] for row in page.select("table.ratings tbody tr")]
        titles = [t.get_text() for t in page.select("svg.interval-chart g title")]
        figures[locale] = [r.find(string=True, recursive=False) for r in ratings], titles
    ratings, titles = figures["en"]
    assert any(float(r.replace(",", "")) >= 1000 for r in ratings), "a rating in the thousands"
    assert all("," in r for r in ratings if float(r.replace(",", "")) >= 1000)
    german = str.maketrans(",.", ".,")
    assert figures["de"] == ([r.translate(german) for r in ratings],
                             [t.translate(german) for t in titles])  # fmt: skip
    shown = {}
    for locale in ("de", "en"):
        page = soup(client.get(f"/admin/projects/{review.slug}",
                               headers={"Accept-Language": locale}).text)  # fmt: skip
        shown[locale] = page.select_one(".progress-cell .num").get_text()  # type: ignore[union-attr]
    assert re.fullmatch(r"[0-9]{1,3}%", shown["en"])  # "99%" in English, "99 %" in German
    assert shown["de"] == shown["en"].replace("%", "\xa0%")


@pytest.mark.parametrize("locale", ["de"])
def test_the_ranking_screen_names_each_place_with_the_noun_as_german_writes_it(
    client: TestClient, session: Session, locale: str
) -> None:
    from app.models import Protocol
    from tests.factories import import_rows, make_project, native_rows

    project = make_project(session, name="Rank", protocol=Protocol.RANKING)
    import_rows(session, project, native_rows(1, candidates=3))
    carol = make_annotator(session, username="carol")
    session.commit()
    browser_login(client, carol)
    page = client.get(f"/projects/{project.slug}/annotate", headers={"Accept-Language": locale})
    labels = [label.get_text() for label in soup(page.text).select(".place label")]
    assert labels == ["Platz von Antwort 1", "Platz von Antwort 2", "Platz von Antwort 3"]
    assert leftovers(page.text, english_messages(locale)) == []


@pytest.mark.parametrize("locale", ["ja", "de"])
def test_refusals_built_with_values_are_told_in_the_pages_language(
    client: TestClient, session: Session, projects: tuple[Project, Project], locale: str
) -> None:
    review, _ = projects
    admin_client(client, session)
    headers = {"Accept-Language": locale}
    said = []
    for method, path, data in [
        ("post", f"/admin/projects/{review.slug}/batches/999/status", {"status": "paused"}),
        ("get", "/admin/people/999", None),
        ("post", "/admin/people", {"username": "a\x00b"}),
    ]:
        page = client.request(method, path, data=data, headers=headers)
        said.append((page.status_code, soup(page.text).select_one("main p").get_text()))  # type: ignore[union-attr]
    expected = {
        "de": [(404, "Kein Batch 999 im Projekt 'Review'."), (404, "Kein Benutzer mit der ID 999."),
               (422, "Username: darf kein NUL-Zeichen (\\u0000) enthalten.")],
        "ja": [(404, "プロジェクト 'Review' にバッチ 999 はありません。"),
               (404, "ID 999 のユーザーはいません。"),
               (422, "Username：NUL 文字（\\u0000）は使えません。")],
    }  # fmt: skip
    assert said == expected[locale]


def test_refusals_built_with_values_keep_their_english() -> None:
    from typing import Any

    from pydantic import ValidationError

    from app.errors import Unprocessable
    from app.i18n import translate
    from app.llm.endpoints import describe
    from app.llm.runs import params_of
    from app.models import JobKind
    from app.text import check_text

    with pytest.raises(Unprocessable) as caught:
        check_text("a\x00b", field="username")
    assert str(caught.value) == "username: must not contain a NUL character (\\u0000)"
    with pytest.raises(Unprocessable) as caught:
        check_text("x" * 100_001, field="guidelines", max_length=100_000)
    assert str(caught.value) == "guidelines: at most 100000 characters"

    def before(exc: Any, cli: bool) -> str:  # the English as it was written before
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
            message = str(error["msg"]).removeprefix("Value error, ")
            if where and cli:
                where = "--" + where.replace("_", "-")
            parts.append(f"{where}: {message}" if where else message)
        return "; ".join(parts)

    with pytest.raises(ValidationError) as invalid:
        params_of(JobKind.GENERATE, {"per_prompt": "x", "temperature": 9, "nope": 1})
    for cli in (True, False):
        assert describe(invalid.value, cli=cli) == before(invalid.value, cli)
    assert translate(describe(invalid.value, cli=False), "de") != before(invalid.value, False)


def test_a_projects_summary_names_its_settings_in_the_pages_language(
    client: TestClient, session: Session, projects: tuple[Project, Project]
) -> None:
    review, _ = projects
    admin_client(client, session)
    page = client.get(f"/admin/projects/{review.slug}", headers={"Accept-Language": "de"})
    summary = " ".join(
        soup(page.text).select_one("#summary-title").find_parent("section").get_text().split()
    )  # type: ignore[union-attr]
    assert "Unentschieden erlaubt" in summary and "Einzelbewertung aus" in summary, summary
    assert not re.search(r"\b(allowed|off|optional)\b", summary), summary


def test_the_settings_forms_choices_read_as_whole_sentences_in_the_pages_language(
    client: TestClient, session: Session, projects: tuple[Project, Project]
) -> None:
    review, _ = projects
    admin_client(client, session)
    url = f"/admin/projects/{review.slug}/settings"
    labels = {
        language: [
            " ".join(label.get_text().split())
            for label in soup(client.get(url, headers={"Accept-Language": language}).text).select(
                "label.check"
            )
        ]
        for language in ("de", "ja")
    }
    assert "Unentschieden erlauben (beide annehmbar, keine besser)" in labels["de"], labels
    assert "「どちらも悪い」を許可する（どちらも許容できない）" in labels["ja"], labels
    page = client.get(url, headers={"Accept-Language": "de"}).text
    assert "HelpSteer2 (5 Aspekte, 0–4)" in page and "aspects" not in page


def test_each_kind_of_validation_error_keeps_pydantics_english_and_is_translated() -> None:
    from typing import Literal

    from pydantic import BaseModel, Field, ValidationError

    from app.i18n import translate, validation_error

    class Form(BaseModel):
        key: str = Field(pattern=r"^[a-z]+$")
        size: Literal["s", "m"]
        when: float = Field(allow_inf_nan=False)
        uuid: bytes = Field(max_length=1)

    with pytest.raises(ValidationError) as caught:
        Form.model_validate({"key": "A", "size": "x", "when": "inf", "uuid": b"ab"})
    errors = caught.value.errors()
    messages = [validation_error(error) for error in errors]
    assert messages == [str(error["msg"]) for error in errors]
    assert [translate(m, "de") for m in messages] == [
        "sollte dem Muster '^[a-z]+$' entsprechen",
        "sollte eines von 's', 'm' sein",
        "sollte eine Zahl sein",
        "ist nicht gültig",
    ]


def test_the_people_list_names_each_role_in_the_pages_language(
    client: TestClient, session: Session
) -> None:
    admin = admin_client(client, session)
    page = soup(client.get("/admin/people", headers={"Accept-Language": "ja"}).text)
    cells = {td.get_text(strip=True) for td in page.select("tbody td")}
    assert "管理者" in cells and "admin" not in cells
    person = soup(client.get(f"/admin/people/{admin.id}", headers={"Accept-Language": "de"}).text)
    assert "Administrator" in [dd.get_text(strip=True) for dd in person.select("dd")]
