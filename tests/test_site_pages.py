"""The site around the pages: HTML error pages for people (JSON for the API), the favicon,
the interactive API docs with their vendored assets, and login messages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.web.rendering import sentence
from app.web.routes.meta import DOCS_CSP
from tests.clients import csrf_of, login, soup
from tests.factories import PASSWORD, make_annotator


def test_an_unknown_page_is_the_apps_html_error_page(client: TestClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = soup(response.text)
    assert page.select_one("h1").get_text() == "Not found"  # type: ignore[union-attr]
    assert "There is no page at this address." in page.get_text()


def test_a_visit_to_an_address_that_takes_posts_is_an_html_405(client: TestClient) -> None:
    response = client.get("/projects/pairs/annotate/1/verdict")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")
    assert "Not a page to visit" in response.text
    assert "allow" in response.headers


def test_the_api_still_answers_json_errors(client: TestClient) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_error_messages_are_sentences(client: TestClient, session: Session) -> None:
    make_annotator(session, username="ann")
    session.commit()
    assert login(client, "ann") == 303
    page = soup(client.get("/projects/no-such/annotate").text)
    assert page.select_one("main p").get_text() == "No project 'no-such'."  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("no project 'x'", "No project 'x'."),
        ("already a sentence.", "Already a sentence."),
        ("is this it?", "Is this it?"),
        ("choose one:", "Choose one:"),
        ("'quoted' first", "'quoted' first."),
        ("プロジェクトがありません", "プロジェクトがありません。"),
        ("「x」はありません", "「x」はありません。"),
        ("残り（３件）", "残り（３件）。"),
        ("終わりました。", "終わりました。"),
        ("Projekt „x“ gibt es nicht", "Projekt „x“ gibt es nicht."),
        ("  ", ""),
        (None, ""),
    ],
)
def test_a_message_is_shown_as_a_sentence_with_its_languages_stop(
    message: str | None, shown: str
) -> None:
    assert sentence(message) == shown


def test_the_favicon_is_served_and_linked(client: TestClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert soup(client.get("/login").text).select_one("link[rel=icon]")["href"] == (  # type: ignore[index]
        "/static/favicon.svg"
    )


@pytest.mark.parametrize(
    ("path", "asset"),
    [
        ("/docs", "/static/vendor/swagger-ui/swagger-ui-bundle.js"),
        ("/redoc", "/static/vendor/redoc/redoc.standalone.js"),
    ],
)
def test_the_api_docs_load_only_vendored_assets(client: TestClient, path: str, asset: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == DOCS_CSP
    page = soup(response.text)
    sources = [t.get("src") or t.get("href") for t in page.select("script, link")]
    assert all(str(s).startswith("/") for s in sources), sources
    assert any(str(s).startswith(asset) for s in sources)
    assert client.get(asset).status_code == 200
    assert "script-src 'self';" in DOCS_CSP, "no inline or remote script, even here"


def test_other_pages_keep_the_strict_policy(client: TestClient) -> None:
    assert "unsafe-inline" not in client.get("/login").headers["content-security-policy"]


def test_a_deactivated_account_is_told_so_only_after_the_right_password(
    client: TestClient, session: Session
) -> None:
    user = make_annotator(session, username="gone")
    user.is_active = False
    session.commit()
    wrong = client.post("/login", data={"username": "gone", "password": "nope",
                                        "csrf_token": _csrf(client)})  # fmt: skip
    assert wrong.status_code == 401 and "inactive" not in wrong.text
    assert login(client, "gone") == 403
    right = client.post("/login", data={"username": "gone", "password": PASSWORD,
                                        "csrf_token": _csrf(client)})  # fmt: skip
    assert "This account is inactive. Ask an admin to reactivate it." in right.text


def _csrf(client: TestClient) -> str:
    return csrf_of(client.get("/login").text)


def test_the_export_page_describes_every_format(client: TestClient, session: Session) -> None:
    from app.exports.registry import FORMATS
    from tests.factories import make_project
    from tests.factories_admin import admin_client

    make_project(session, name="Formats")
    admin_client(client, session)
    page = soup(client.get("/admin/projects/formats/export").text)
    described = {dt.get_text(strip=True) for dt in page.select(".formats-help dt")}
    assert described == set(FORMATS)
    assert "README" not in page.select_one(".formats-help").get_text()  # type: ignore[union-attr]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/nope", 404),
    ("get", "/projects/pairs/annotate/1/verdict", 405),
    ("get", "/projects/no-such/annotate", 404),  # a route that found nothing
])  # fmt: skip
def test_an_error_page_keeps_the_signed_in_header(
    client: TestClient, session: Session, method: str, path: str, status: int
) -> None:
    make_annotator(session, username="ann")
    session.commit()
    anonymous = soup(getattr(client, method)(path).text)
    assert anonymous.select_one(".who") is None and anonymous.select_one(".nav-links") is None
    assert login(client, "ann") == 303
    response = getattr(client, method)(path)
    assert response.status_code == status
    page = soup(response.text)
    assert page.select_one(".who").get_text() == "ann"  # type: ignore[union-attr]
    assert page.select_one("form[action='/logout'] input[name=csrf_token]")["value"]  # type: ignore[index]
    assert [a["href"] for a in page.select(".nav-links a")] == ["/"]
