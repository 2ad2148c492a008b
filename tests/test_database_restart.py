"""The database restarts under the annotators' feet: requests in the outage get a clean 503
(JSON ``detail`` and ``Retry-After``, never a hang or a 500), the app recovers by itself, and
every judgement answered 201 is in the database afterwards.

The restart test runs against a private cluster (tests/private_postgres.py), never the shared
test server. The 503 mapping itself is checked without any server: a Postgres URL on a port
where nothing listens.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import db as db_module
from app import migrate
from app.db import Database
from app.models import Judgement
from app.settings import Settings
from app.web.main import create_app
from tests.clients import bearer, soup
from tests.conftest import TEST_SECRET
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.live import live_server
from tests.private_postgres import Cluster, free_port, private_cluster

SLUG = "through-the-outage"
DEADLINE_SECONDS = 60


def unreachable_settings(tmp_path: Path) -> Settings:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere?connect_timeout=5"
    return Settings(database_url=url, secret_key=TEST_SECRET, secret_key_file=tmp_path / "k")


def test_an_unreachable_database_is_a_503_for_the_api(tmp_path: Path) -> None:
    app = create_app(unreachable_settings(tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            f"/api/v1/projects/{SLUG}/assignments", headers={"Authorization": "Bearer " + "x" * 40}
        )
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert set(response.json()) == {"detail"}
    assert "try again" in response.json()["detail"]


def test_an_unreachable_database_is_a_friendly_503_page(tmp_path: Path) -> None:
    app = create_app(unreachable_settings(tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        csrf = soup(client.get("/login").text).find("input", {"name": "csrf_token"})
        assert csrf is not None
        form = {"username": "ann", "password": "pw", "csrf_token": csrf["value"]}
        response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    page = soup(response.text)
    assert page.h1 is not None and page.h1.get_text(strip=True) == "Temporarily unavailable"
    assert "Traceback" not in response.text


def test_a_server_that_never_answers_is_a_503_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host that accepts the TCP connection and then says nothing (gone away, firewalled)."""
    monkeypatch.setattr(db_module, "PG_CONNECT_TIMEOUT_SECONDS", 1)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere"
        settings = Settings(database_url=url, secret_key=TEST_SECRET,
                            secret_key_file=tmp_path / "k")  # fmt: skip
        app = create_app(settings)
        with TestClient(app, raise_server_exceptions=False) as client:
            began = time.monotonic()
            response = client.post(f"/api/v1/projects/{SLUG}/assignments",
                                   headers={"Authorization": "Bearer " + "x" * 40})  # fmt: skip
            took = time.monotonic() - began
        app.state.db.dispose()
    assert response.status_code == 503
    assert took < DEADLINE_SECONDS / 2, f"answered after {took:.1f} s"


@dataclass
class Tally:
    """What the clients were answered, shared between their threads."""

    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: set[int] = field(default_factory=set)  # judgement ids answered 201
    problems: list[str] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def record(self, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code == 503:
                if "Retry-After" not in response.headers or set(response.json()) != {"detail"}:
                    self.problems.append(f"a bare 503: {response.headers} {response.text}")
            elif response.status_code not in (200, 201, 204):
                self.problems.append(f"{response.status_code}: {response.text[:500]}")
            self.lock.notify_all()

    def acknowledge(self, judgement_id: int) -> None:
        with self.lock:
            self.acknowledged.add(judgement_id)
            self.lock.notify_all()

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        with self.lock:
            if not self.lock.wait_for(condition, timeout=DEADLINE_SECONDS):
                raise AssertionError(f"timed out waiting for {what}: {self.statuses}")


def annotator(base: str, headers: dict[str, str], tally: Tally, stop: threading.Event) -> None:
    """Lease and judge until told to stop, whatever the server answers."""
    with httpx.Client(base_url=base, headers=headers, timeout=DEADLINE_SECONDS) as client:
        while not stop.is_set():
            lease = client.post(f"/api/v1/projects/{SLUG}/assignments")
            tally.record(lease)
            if lease.status_code != 201:
                if lease.status_code == 204:
                    return
                stop.wait(0.05)  # the server said to come back later
                continue
            response = client.post(
                f"/api/v1/assignments/{lease.json()['id']}/judgement", json={"verdict": "left"}
            )
            tally.record(response)
            if response.status_code == 201:
                tally.acknowledge(response.json()["id"])


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with private_cluster() as started:
        admin = create_engine(started.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE arbiter"))
        admin.dispose()
        yield started


def seed(url: str) -> list[dict[str, str]]:
    """A project of 400 pairs, overlap 1, and three annotators' API tokens."""
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.scope() as session:
        project = make_project(session, name="Through the outage", overlap=1)
        import_rows(session, project, native_rows(400))
        tokens = [bearer(session, make_annotator(session)) for _ in range(3)]
    db.dispose()
    return tokens


def test_annotators_work_through_a_database_restart(cluster: Cluster, tmp_path: Path) -> None:
    url = cluster.url("arbiter")
    tokens = seed(url)
    settings = Settings(database_url=url, secret_key=TEST_SECRET, secret_key_file=tmp_path / "k")
    tally, stop = Tally(), threading.Event()
    with live_server(settings) as base:
        clients = [
            threading.Thread(target=annotator, args=(base, t, tally, stop)) for t in tokens * 2
        ]
        for thread in clients:
            thread.start()
        try:
            tally.wait_for(lambda: len(tally.acknowledged) >= 20, "judgements before the stop")
            cluster.stop()
            outage_began, before = time.monotonic(), tally.statuses[503]
            tally.wait_for(lambda: tally.statuses[503] >= before + 10, "503s in the outage")
            cluster.start()
            outage = time.monotonic() - outage_began
            after = len(tally.acknowledged)
            tally.wait_for(lambda: len(tally.acknowledged) >= after + 20, "judgements after")
        finally:
            stop.set()
            for thread in clients:
                thread.join(DEADLINE_SECONDS)
    assert not tally.problems, tally.problems[:5]
    assert not any(thread.is_alive() for thread in clients), "a client hung"
    db = Database(url)
    with db.scope() as session:
        stored = set(session.scalars(select(Judgement.id)))
    db.dispose()
    assert tally.acknowledged <= stored, "a judgement answered 201 was lost"
    print(f"outage {outage:.2f} s; answers {dict(tally.statuses)}; kept {len(stored)}")


def test_a_commit_that_fails_is_a_503_not_a_201(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request's transaction commits before the answer is sent: no 201 for a lost write."""
    project = make_project(session, name="Through the outage")
    import_rows(session, project, native_rows(1))
    headers = bearer(session, make_annotator(session))
    session.commit()
    lease = client.post(f"/api/v1/projects/{SLUG}/assignments", headers=headers)
    assert lease.status_code == 201

    def gone(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(Session, "commit", gone)
    response = client.post(f"/api/v1/assignments/{lease.json()['id']}/judgement",
                           json={"verdict": "left"}, headers=headers)  # fmt: skip
    monkeypatch.undo()
    assert response.status_code == 503, response.text
    assert session.scalar(select(func.count()).select_from(Judgement)) == 0
