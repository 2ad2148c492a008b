"""Signing in from tests: a browser-like session with its CSRF token, or an API token."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.auth import create_token
from app.models import User
from tests.factories import PASSWORD

HX = {"HX-Request": "true"}
"""What htmx sends: ask for the page's fragment."""


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def csrf_of(html: str) -> str:
    field = BeautifulSoup(html, "html.parser").find("input", {"name": "csrf_token"})
    assert field is not None
    return str(field["value"])


def login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return response.status_code


def browser_login(client: TestClient, user: User) -> str:
    """Log ``client`` in as ``user`` (committed); the session's CSRF token."""
    assert login(client, user.username) == 303
    return csrf_of(client.get("/login").text)


def bearer(session: Session, user: User) -> dict[str, str]:
    """Headers carrying a new API token of ``user`` (the caller commits)."""
    return {"Authorization": f"Bearer {create_token(session, user)}"}


def label_all(client: TestClient, auth: dict[str, str], slug: str, body: Any) -> int:
    """Answer every lease ``slug`` hands this person, the body made from each lease."""
    done = 0
    while (
        lease := client.post(f"/api/v1/projects/{slug}/assignments", headers=auth)
    ).status_code == 201:
        work = lease.json()
        sent = client.post(
            f"/api/v1/assignments/{work['id']}/judgement", json=body(work), headers=auth
        )
        assert sent.status_code == 201, sent.text
        done += 1
    return done
