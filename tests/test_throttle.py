"""Login throttling: ten failures per username or per address in 15 minutes, then 429."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts import throttle
from app.models import utcnow
from tests.clients import csrf_of, login
from tests.factories import PASSWORD, make_annotator


def attempt(client: TestClient, username: str, password: str = "wrong-password") -> int:
    return login(client, username, password)


def test_the_eleventh_try_after_ten_failures_is_refused_with_retry_after(
    client: TestClient, session: Session
) -> None:
    make_annotator(session, username="ann")
    session.commit()
    assert [attempt(client, "ann") for _ in range(10)] == [401] * 10
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429, "even the right password waits"
    assert 1 <= int(response.headers["retry-after"]) <= 15 * 60
    assert "Too many failed logins" in response.text


def test_an_unknown_user_and_a_known_one_are_throttled_alike(
    client: TestClient, session: Session
) -> None:
    make_annotator(session, username="ann")
    session.commit()
    for name in ("ann", "nobody"):
        for _ in range(10):
            throttle.record_failure(session, name, f"10.0.0.{len(name)}")
    session.commit()
    token = csrf_of(client.get("/login").text)
    known, unknown = (
        client.post("/login", data={"username": name, "password": "x", "csrf_token": token})
        for name in ("ann", "nobody")
    )
    assert known.status_code == unknown.status_code == 429
    assert known.text.replace("ann", "") == unknown.text.replace("nobody", "")


def test_one_address_is_throttled_across_usernames(session: Session) -> None:
    for i in range(10):
        throttle.record_failure(session, f"user{i}", "192.0.2.7")
    assert throttle.retry_after(session, "someone-else", "192.0.2.7") is not None
    assert throttle.retry_after(session, "someone-else", "192.0.2.8") is None


def test_failures_age_out_after_fifteen_minutes(session: Session) -> None:
    start = utcnow()
    for i in range(10):
        throttle.record_failure(session, "ann", "192.0.2.7", now=start + timedelta(seconds=i))
    wait = throttle.retry_after(session, "ann", "192.0.2.1", now=start + timedelta(seconds=10))
    assert wait == 15 * 60 - 10, "until the oldest of the ten leaves the window"
    later = start + timedelta(minutes=15, seconds=1)
    assert throttle.retry_after(session, "ann", "192.0.2.1", now=later) is None


def test_usernames_are_counted_without_regard_to_case(session: Session) -> None:
    for _ in range(10):
        throttle.record_failure(session, "Ann", "192.0.2.7")
    assert throttle.retry_after(session, " ann ", "192.0.2.9") is not None


def test_a_successful_login_forgets_that_usernames_failures(
    client: TestClient, session: Session
) -> None:
    make_annotator(session, username="ann")
    session.commit()
    for _ in range(9):
        assert attempt(client, "ann") == 401
    assert attempt(client, "ann", PASSWORD) == 303
    session.expire_all()
    assert throttle.retry_after(session, "ann", "elsewhere") is None
    session.commit()
    assert attempt(client, "ann") == 401, "a fresh count"
