"""Browser sessions end server-side: logout, deactivation, a new password, an admin's "end
all sessions" and the idle timeout end them at once, even for a copied cookie; reactivating
a user revives nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.accounts import people
from app.accounts.auth import set_password
from app.models import User, UserSession, utcnow
from app.settings import Settings
from app.web.main import SESSION_COOKIE, create_app
from tests.clients import csrf_of, login, soup
from tests.factories import make_annotator
from tests.factories_admin import admin_client


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.db.dispose()


def signed_in(app: FastAPI, session: Session, username: str = "ann") -> tuple[TestClient, User]:
    user = make_annotator(session, username=username)
    session.commit()
    client = TestClient(app)
    assert login(client, username) == 303
    return client, user


def copy_of(client: TestClient, app: FastAPI) -> TestClient:
    """Another browser holding the same cookie (copied off the first)."""
    thief = TestClient(app)
    thief.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
    return thief


def labels(client: TestClient) -> bool:
    return client.get("/", follow_redirects=False).status_code == 200


def test_logout_ends_the_session_for_a_copied_cookie_too(app: FastAPI, session: Session) -> None:
    client, _ = signed_in(app, session)
    thief = copy_of(client, app)
    assert labels(thief), "the copy works while the session lives"
    token = csrf_of(client.get("/login").text)
    assert (
        client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert not labels(client)
    assert not labels(thief), "the copied cookie opens nothing after logout"


def test_deactivation_ends_sessions_and_reactivation_revives_none(
    app: FastAPI, session: Session
) -> None:
    client, ann = signed_in(app, session)
    thief = copy_of(client, app)
    admin = make_annotator(session, username="boss")
    people.deactivate(session, ann, by=admin)
    session.commit()
    people.reactivate(session, ann)
    session.commit()
    assert not labels(client) and not labels(thief)
    assert login(client, "ann") == 303 and labels(client), "a fresh login works"


def test_a_new_password_ends_every_session(app: FastAPI, session: Session) -> None:
    client, ann = signed_in(app, session)
    thief = copy_of(client, app)
    set_password(session, ann, "another-long-password-0123")
    session.commit()
    assert not labels(client) and not labels(thief)


def test_an_admin_ends_all_of_a_users_sessions(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    laptop, ann = signed_in(app, session)
    phone = TestClient(app)
    assert login(phone, "ann") == 303
    admin_client(client, session)
    page = soup(client.get(f"/admin/people/{ann.id}").text)
    figures = {
        dt.get_text(): dd.get_text()
        for dt, dd in zip(page.select("dt"), page.select("dd"), strict=True)
    }
    assert figures["Browser sessions"] == "2"
    answer = client.post(f"/admin/people/{ann.id}/sessions/end")
    assert answer.status_code in (200, 303)
    assert not labels(laptop) and not labels(phone)
    assert labels(client), "the admin's own session is untouched"


def test_an_idle_session_is_over(app: FastAPI, session: Session, settings: Settings) -> None:
    client, _ = signed_in(app, session)
    assert labels(client)
    idle = timedelta(minutes=settings.session_idle_minutes, seconds=1)
    session.execute(update(UserSession).values(last_seen_at=utcnow() - idle))
    session.commit()
    assert not labels(client)


def test_use_keeps_a_session_alive(app: FastAPI, session: Session, settings: Settings) -> None:
    client, _ = signed_in(app, session)
    almost = timedelta(minutes=settings.session_idle_minutes - 1)
    session.execute(update(UserSession).values(last_seen_at=utcnow() - almost))
    session.commit()
    assert labels(client), "still within the idle timeout: the request renews it"
    session.execute(update(UserSession).values(created_at=utcnow() - timedelta(days=15)))
    session.commit()
    assert not labels(client), "and after fourteen days it is over whatever its use"
