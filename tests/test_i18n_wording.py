"""Sentences that carry a value read as whole sentences in each language, values the app
writes itself (an outcome, the totals row) are translated, and the pages around the admin
ones (the error page, the API docs) speak the page's language."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.exports import FORMATS
from app.exports.base import FileStats, shown_warnings, warning_messages
from app.i18n import translate
from app.models import Project
from tests.clients import browser_login, soup
from tests.factories import make_annotator
from tests.factories_admin import admin_client, judge, project_with_comparisons
from tests.factories_review import make_review_project

DISPUTED = {"en": "Disputed", "ja": "意見が割れた", "de": "Umstritten"}


@pytest.fixture
def review(session: Session) -> Project:
    project, _ = make_review_project(session)
    session.commit()
    return project


def _text(html: str, selector: str) -> str:
    found = soup(html).select_one(selector)
    assert found is not None, selector
    return " ".join(found.get_text().split())


@pytest.mark.parametrize("locale", ["en", "ja", "de"])
def test_a_disputed_outcome_is_named_in_the_pages_language(
    client: TestClient, session: Session, review: Project, locale: str
) -> None:
    admin_client(client, session)
    headers = {"Accept-Language": locale}
    page = client.get(f"/admin/projects/{review.slug}/items", headers=headers).text
    rows = soup(page).select("table.items tbody tr")
    outcomes = [row.find_all("td")[1].get_text(strip=True) for row in rows]
    assert DISPUTED[locale] in outcomes, outcomes
    disputed = next(r for r, o in zip(rows, outcomes, strict=True) if o == DISPUTED[locale])
    item = client.get(str(disputed.select_one("th a")["href"]), headers=headers).text  # type: ignore[index]
    assert DISPUTED[locale] in _text(item, ".outcome-line")


@pytest.mark.parametrize(("locale", "total"), [("en", "All annotators"), ("ja", "アノテーター全体"),
                                               ("de", "Alle Annotierenden")])  # fmt: skip
def test_the_dashboards_totals_row_is_named_in_the_pages_language(
    client: TestClient, session: Session, review: Project, locale: str, total: str
) -> None:
    admin_client(client, session)
    page = client.get(f"/admin/projects/{review.slug}/dashboard",
                      headers={"Accept-Language": locale}).text  # fmt: skip
    assert _text(page, "table.annotators tr.total th") == total


def test_the_export_pages_services_read_as_whole_sentences(
    client: TestClient, session: Session, review: Project
) -> None:
    admin_client(client, session)
    url = f"/admin/projects/{review.slug}/export"
    ja = client.get(url, headers={"Accept-Language": "ja"}).text
    assert _text(ja, "#services-title") == "openai-dpo ファイルの対応サービス"
    assert soup(ja).select_one("#services-title code").get_text() == "openai-dpo"  # type: ignore[union-attr]
    ja_limits = [s.get_text() for s in soup(ja).select(".service-list .muted:not(.small)")]
    assert set(ja_limits) == {"（10 例以上）", "（3〜3,000,000 例）"}
    de = client.get(url, headers={"Accept-Language": "de"}).text
    assert _text(de, "#services-title") == "Wofür sich openai-dpo-Dateien eignen"
    en = client.get(url).text
    assert _text(en, "#services-title") == "Where openai-dpo files go"
    en_limits = [s.get_text() for s in soup(en).select(".service-list .muted:not(.small)")]
    assert set(en_limits) == {"(at least 10 examples)", "(3 to 3,000,000 examples)"}


@pytest.mark.parametrize(("locale", "hint"), [
    ("en", "The address stays review after a rename."),
    ("ja", "名前を変えても、アドレスは review のままです。"),
    ("de", "Die Adresse bleibt nach einer Umbenennung review."),
])  # fmt: skip
def test_the_settings_page_names_the_kept_address_in_one_sentence(
    client: TestClient, session: Session, review: Project, locale: str, hint: str
) -> None:
    admin_client(client, session)
    page = client.get(f"/admin/projects/{review.slug}/settings",
                      headers={"Accept-Language": locale}).text  # fmt: skip
    hints = [" ".join(p.get_text().split()) for p in soup(page).select("p.hint")]
    assert hint.replace("review", review.slug) in hints


def test_japanese_puts_no_space_after_its_own_punctuation_before_a_link(
    client: TestClient, session: Session, review: Project
) -> None:
    admin_client(client, session)
    ja = {"Accept-Language": "ja"}
    members = client.get(f"/admin/projects/{review.slug}/members", headers=ja).text
    told = next(p for p in soup(members).find_all("p") if "メンバーなし" in p.get_text())
    assert told.get_text().startswith("メンバーなし：すべてのアノテーターに")
    english = client.get(f"/admin/projects/{review.slug}/members").text
    assert "No members: every annotator is given this project" in " ".join(
        soup(english).get_text().split()
    )
    delete = client.get(f"/admin/projects/{review.slug}/delete", headers=ja).text
    assert "お知らせします。手元の控えとして" in soup(delete).get_text()
    everyone = translate("Every active annotator is a member already. %(add)s", "ja")
    assert everyone == "有効なアノテーターは全員すでにメンバーです。%(add)s"


def test_the_error_page_offers_a_login_to_a_visitor_and_the_projects_to_a_person(
    client: TestClient, session: Session
) -> None:
    visitor = soup(client.get("/nope", headers={"Accept-Language": "ja"}).text)
    link = visitor.select_one("section.narrow a")
    assert link is not None and (link["href"], link.get_text()) == ("/login", "ログイン")
    assert "Back to my projects" not in client.get("/nope").text
    admin_client(client, session)
    person = soup(client.get("/nope").text)
    assert person.select_one("section.narrow a").get_text() == "Back to my projects"  # type: ignore[union-attr]


@pytest.mark.parametrize("locale", ["ja", "de"])
def test_the_api_docs_are_marked_in_the_pages_language(client: TestClient, locale: str) -> None:
    for path in ("/docs", "/redoc"):
        page = soup(client.get(path, headers={"Accept-Language": locale}).text)
        assert page.html["lang"] == locale  # type: ignore[index]


@pytest.mark.parametrize(("locale", "shown"), [("en", "37%"), ("de", "37\xa0%"), ("ja", "37%")])
def test_a_progress_bar_writes_its_percentage_the_locales_way(
    client: TestClient, session: Session, locale: str, shown: str
) -> None:
    """3 of 8 is 37.5 %: rounded down, as the labelling pages write it, so an admin and an
    annotator read the same figure (and 100 % only once it is done)."""
    _, comparisons = project_with_comparisons(session, 4, name="Zebra", overlap=2)
    annotator = make_annotator(session)
    for c in comparisons[:3]:
        judge(session, c, annotator, "a")
    admin_client(client, session)
    page = soup(client.get("/admin", headers={"Accept-Language": locale}).text)
    row = page.find("a", string="Zebra").find_parent("tr")  # type: ignore[union-attr]
    assert row.select_one(".progress-cell .num").get_text() == shown  # type: ignore[union-attr]
    browser_login(client, annotator)
    home = soup(client.get("/", headers={"Accept-Language": "en"}).text)
    assert "(37%)" in " ".join(home.get_text().split())


@pytest.mark.parametrize(("locale", "msgid", "wording"), [
    ("ja", "People", "ユーザー"),
    ("ja", "Add people", "ユーザーを追加"),
    ("ja", "e.g. nightly import", "例：夜間インポート"),
    ("de", "Fit", "Schätzen"),
    ("de", "A share, 0 to 1 (e.g. 0.67).", "Ein Anteil von 0 bis 1 (z. B. 0,67)."),
    ("de", "Both (train and validation)", "Beide (Training + Validierung)"),
])  # fmt: skip
def test_the_catalogs_wording(locale: str, msgid: str, wording: str) -> None:
    assert translate(msgid, locale) == wording


def test_a_new_password_notice_names_the_person_in_one_sentence(
    client: TestClient, session: Session
) -> None:
    ann = make_annotator(session, username="ann")
    admin_client(client, session)
    ja = client.post(f"/admin/people/{ann.id}/password", headers={"Accept-Language": "ja"}).text
    notice = soup(ja).select_one(".secret-value").find_parent("p")  # type: ignore[union-attr]
    assert notice is not None and notice.strong is not None
    assert notice.strong.get_text() == "ann"
    assert " ".join(notice.get_text().split()).startswith(
        "ann の新しいパスワードです。今だけ表示されます。本人に伝えてください："
    )


def _holding(html: str, code: str) -> str:
    """The text of the paragraph that holds ``<code>code</code>``."""
    found = next((c for c in soup(html).select("p code") if c.get_text() == code), None)
    assert found is not None, code
    return " ".join(found.find_parent("p").get_text().split())  # type: ignore[union-attr]


@pytest.mark.parametrize(("locale", "judge_line", "doc_line"), [
    ("de", "Übereinstimmende Antworten werden als Urteile von judge:LABEL gespeichert (sie",
     "Jedes Feld und jede Regel jeder Datei: docs/FORMATS.md im Repository."),
    ("ja", "一致した回答は judge:LABEL の判定として記録されます（オーバーラップには数えません。",
     "各ファイルのすべての項目と規則：リポジトリ内の docs/FORMATS.md。"),
])  # fmt: skip
def test_sentences_around_code_read_in_the_languages_own_order(
    client: TestClient,
    session: Session,
    review: Project,
    locale: str,
    judge_line: str,
    doc_line: str,
) -> None:
    admin_client(client, session)
    headers = {"Accept-Language": locale}
    models = client.get(f"/admin/projects/{review.slug}/models", headers=headers).text
    assert judge_line in _holding(models, "judge:LABEL")
    export = client.get(f"/admin/projects/{review.slug}/export", headers=headers).text
    assert _holding(export, "docs/FORMATS.md") == doc_line
    dashboard = client.get(f"/admin/projects/{review.slug}/dashboard", headers=headers).text
    bias = next(p for p in soup(dashboard).select("p") if p.select_one("strong.flag"))
    text = " ".join(bias.get_text().split())
    assert text.startswith({"de": "Der Anteil", "ja": "決定的な判定"}[locale]), text
    assert {"de": "der links gezeigt wurde", "ja": "左側に表示"}[locale] in text, text


@pytest.mark.parametrize(("locale", "warning"), [
    ("en", "1 row: OpenAI needs at least 10 examples in a file"),
    ("ja", "1 行：OpenAI は 1 ファイルに 10 件以上の例が必要です"),
    ("de", "1 Zeile: OpenAI braucht mindestens 10 Beispiele in einer Datei"),
])  # fmt: skip
def test_an_exports_warnings_read_in_the_pages_language(
    client: TestClient, session: Session, review: Project, locale: str, warning: str
) -> None:
    admin_client(client, session)
    page = client.get(f"/admin/projects/{review.slug}/export?format=openai-dpo&preview=1",
                      headers={"Accept-Language": locale}).text  # fmt: skip
    shown = [" ".join(li.get_text().split()) for li in soup(page).select(".warnings li")]
    assert warning in shown, shown


def test_a_manifest_keeps_each_warnings_message_id_and_values() -> None:
    found = FORMATS["nova-dpo"].all_warnings(FileStats(rows=7))
    kept = warning_messages(found)
    assert kept[0] == {"message": "%(n)s row: Nova training jobs need at least %(least)s",
                       "plural": "%(n)s rows: Nova training jobs need at least %(least)s",
                       "values": {"n": 7, "least": 8}}  # fmt: skip
    manifest = {"warnings": [str(w) for w in found], "warning_messages": kept}
    assert shown_warnings(manifest, "en") == [
        "7 rows: Nova training jobs need at least 8",
        "7 rows: AWS recommends at least 1,000 for Nova DPO",
    ]
    german = shown_warnings(manifest, "de")
    assert german[1] == "7 Zeilen: AWS empfiehlt für Nova DPO mindestens 1.000"
    # A manifest written before the ids were kept, or with a damaged entry, shows its English.
    assert shown_warnings({"warnings": manifest["warnings"]}, "ja") == manifest["warnings"]
    damaged = {**manifest, "warning_messages": [{"message": "%(n)s"}, kept[1]]}
    assert shown_warnings(damaged, "ja")[0] == "7 rows: Nova training jobs need at least 8"
    assert shown_warnings(damaged, "ja")[1] == "7 行：Nova DPO には 1,000 行以上が AWS の推奨です"


@pytest.mark.parametrize(("locale", "notice"), [
    ("en", "Created annotator ann."),
    ("ja", "アノテーター「ann」を作成しました。"),
    ("de", "ann (Annotierende) angelegt."),
])  # fmt: skip
def test_a_new_person_is_named_inside_the_sentence_that_says_so(
    client: TestClient, session: Session, locale: str, notice: str
) -> None:
    admin_client(client, session)
    data = {"username": "ann", "role": "annotator", "password": "a long password"}
    page = client.post("/admin/people", data=data, headers={"Accept-Language": locale}).text
    status = soup(page).select_one("[role=status] p")
    assert status is not None and status.strong is not None
    assert status.strong.get_text() == "ann"
    assert " ".join(status.get_text().split()) == notice
