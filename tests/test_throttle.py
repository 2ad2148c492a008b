"""Login throttling: ten failures per (username, address) in 15 minutes, then 429; a hundred
per address whatever the usernames; counted atomically, so concurrent guesses cannot slip
past; X-Forwarded-For believed only from configured proxies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts import auth, throttle
from app.models import utcnow
from app.settings import Settings
from app.web.main import create_app
from tests.clients import csrf_of, login
from tests.concurrency import run_all
from tests.factories import PASSWORD, make_annotator
from tests.live import live_server

HERE = "testclient"  # the address TestClient's requests come from


def attempt(client: TestClient, username: str, password: str = "wrong-password") -> int:
    return login(client, username, password)


def fail(session: Session, username: str, address: str, times: int = 10) -> None:
    for _ in range(times):
        throttle.reserve(session, username, address)
    session.commit()


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
    fail(session, "ann", HERE)
    fail(session, "nobody", HERE)
    token = csrf_of(client.get("/login").text)
    known, unknown = (
        client.post("/login", data={"username": name, "password": "x", "csrf_token": token})
        for name in ("ann", "nobody")
    )
    assert known.status_code == unknown.status_code == 429
    assert known.text.replace("ann", "") == unknown.text.replace("nobody", "")


def test_a_stranger_elsewhere_cannot_lock_a_colleague_out(
    client: TestClient, session: Session
) -> None:
    make_annotator(session, username="ann")
    fail(session, "ann", "203.0.113.9", times=50)
    assert attempt(client, "ann", PASSWORD) == 303


def test_colleagues_behind_one_address_have_budgets_of_their_own(
    client: TestClient, session: Session
) -> None:
    make_annotator(session, username="ann")
    fail(session, "bob", HERE)
    assert attempt(client, "ann", PASSWORD) == 303


def test_one_address_has_a_ceiling_across_usernames(session: Session) -> None:
    for i in range(throttle.ADDRESS_CEILING):
        assert throttle.reserve(session, f"user{i}", "192.0.2.7") is None
    assert throttle.reserve(session, "someone-else", "192.0.2.7") is not None
    assert throttle.reserve(session, "someone-else", "192.0.2.8") is None


def test_the_window_ends_fifteen_minutes_after_the_first_failure(session: Session) -> None:
    start = utcnow()
    for i in range(10):
        assert (
            throttle.reserve(session, "ann", "192.0.2.7", now=start + timedelta(seconds=i)) is None
        )
    wait = throttle.reserve(session, "ann", "192.0.2.7", now=start + timedelta(seconds=10))
    assert wait == 15 * 60 - 10
    later = start + timedelta(minutes=15, seconds=1)
    assert throttle.reserve(session, "ann", "192.0.2.7", now=later) is None, "a fresh window"


def test_usernames_are_counted_without_regard_to_case(session: Session) -> None:
    fail(session, "Ann", "192.0.2.7")
    assert throttle.reserve(session, " ann ", "192.0.2.7") is not None


def test_a_successful_login_forgets_that_pairs_failures(
    client: TestClient, session: Session
) -> None:
    make_annotator(session, username="ann")
    session.commit()
    for _ in range(9):
        assert attempt(client, "ann") == 401
    assert attempt(client, "ann", PASSWORD) == 303
    assert [attempt(client, "ann") for _ in range(10)] == [401] * 10, "a fresh count"


@pytest.fixture
def behind_proxy(settings: Settings) -> Iterator[TestClient]:
    """The app behind a proxy at 10.0.0.1 that it is told to trust."""
    app = create_app(settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"}))
    with TestClient(app, client=("10.0.0.1", 40000)) as c:
        yield c
    app.state.db.dispose()


def forwarded_attempt(client: TestClient, address: str) -> int:
    token = csrf_of(client.get("/login").text)
    data = {"username": "ann", "password": "wrong-password", "csrf_token": token}
    headers = {"X-Forwarded-For": f"{address}, 10.0.0.2"}
    return client.post("/login", data=data, headers=headers).status_code


def test_a_trusted_proxys_forwarded_address_is_the_clients(
    behind_proxy: TestClient, session: Session
) -> None:
    make_annotator(session, username="ann")
    session.commit()
    assert [forwarded_attempt(behind_proxy, "198.51.100.1") for _ in range(11)][-1] == 429
    assert forwarded_attempt(behind_proxy, "198.51.100.2") == 401, "another client"


def test_forwarded_headers_from_anyone_else_are_ignored(
    client: TestClient, session: Session
) -> None:
    make_annotator(session, username="ann")
    session.commit()
    codes = [forwarded_attempt(client, f"198.51.100.{i}") for i in range(11)]
    assert codes[-1] == 429, "a made-up X-Forwarded-For does not buy a fresh budget"


CONCURRENT = 50


def test_concurrent_wrong_logins_check_at_most_the_limits_worth_of_passwords(
    settings: Settings, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_annotator(session, username="ann")
    session.commit()
    checks: list[int] = []
    real = auth.verify_password

    def counted(password_hash: str, password: str) -> bool:
        checks.append(1)
        return real(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counted)
    with live_server(settings) as base:
        clients = [httpx.Client(base_url=base) for _ in range(CONCURRENT)]
        tokens = [csrf_of(c.get("/login").text) for c in clients]

        def guess(i: int) -> int:
            data = {"username": "ann", "password": f"guess-{i}", "csrf_token": tokens[i]}
            return clients[i].post("/login", data=data, timeout=60).status_code

        codes = run_all([lambda i=i: guess(i) for i in range(CONCURRENT)])  # type: ignore[misc]
        for c in clients:
            c.close()
    assert sorted(set(codes)) == [401, 429]
    assert codes.count(401) == len(checks) == throttle.MAX_FAILURES
