"""Logging in and out; the security headers every page carries."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.auth import set_password
from tests.clients import csrf_of, login
from tests.factories import PASSWORD, make_annotator


def test_login_page_is_a_labelled_form(client: TestClient) -> None:
    page = BeautifulSoup(client.get("/login").text, "html.parser")
    for name in ("username", "password"):
        field = page.find("input", {"name": name})
        assert field is not None
        assert page.find("label", {"for": field["id"]}) is not None


def test_login_with_the_right_password_sets_an_httponly_samesite_cookie(
    client: TestClient, session: Session
) -> None:
    make_annotator(session, username="ann")
    session.commit()
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "ann", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: TestClient, session: Session
) -> None:
    make_annotator(session, username="ann")
    session.commit()
    token = csrf_of(client.get("/login").text)
    wrong = client.post("/login", data={"username": "ann", "password": "nope-nope",
                                        "csrf_token": token})  # fmt: skip
    unknown = client.post("/login", data={"username": "zed", "password": "nope-nope",
                                          "csrf_token": token})  # fmt: skip
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.text
    assert "Wrong username or password." in unknown.text


def test_login_without_the_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    make_annotator(session, username="ann")
    session.commit()
    client.get("/login")
    response = client.post("/login", data={"username": "ann", "password": PASSWORD})
    assert response.status_code == 403


def test_every_page_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/login", "/healthz", "/static/app.css"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"]


def test_login_never_redirects_off_site(client: TestClient, session: Session) -> None:
    make_annotator(session, username="ann")
    session.commit()
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "ann", "password": PASSWORD, "csrf_token": token,
              "next": "//evil.example/x"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.headers["location"] == "/"


def test_the_login_page_as_a_fragment_is_only_the_form(client: TestClient) -> None:
    response = client.get("/login", headers={"HX-Request": "true"})
    assert "<html" not in response.text
    assert BeautifulSoup(response.text, "html.parser").find("form", {"action": "/login"})


def test_a_new_password_ends_the_sessions_started_before_it(
    client: TestClient, session: Session
) -> None:
    user = make_annotator(session, username="ann")
    session.commit()
    assert login(client, "ann") == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    set_password(session, user, "another-long-password-0123")
    session.commit()
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code in (303, 307) and "/login" in answer.headers["location"]
    assert login(client, "ann", "another-long-password-0123") == 303  # a new session works
    assert client.get("/", follow_redirects=False).status_code == 200
