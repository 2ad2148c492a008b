"""A client that hangs up in the middle of a large streamed export leaves nothing behind: no
connection checked out of the pool, no open transaction in ``pg_stat_activity``, no export
recorded. Postgres only (it is where a held snapshot costs), on a real uvicorn server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from app.accounts.auth import create_token
from app.db import Database
from app.models import Export, Role
from app.settings import Settings
from app.web.main import create_app
from tests.conftest import PG_URL, TEST_SECRET
from tests.factories_bulk import generate
from tests.factories_labels import make_labeller
from tests.live import live_server

DEADLINE_SECONDS = 30
COMPARISONS = 6_000  # about 3 MB of judgements rows: far more than the socket buffers hold

pytestmark = pytest.mark.skipif(not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set")


@pytest.fixture
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """The Postgres test database only (``database_url`` runs on SQLite too)."""
    request.getfixturevalue("postgres_migrated")
    database = Database(PG_URL)
    yield database
    with database.engine.begin() as conn:
        conn.execute(text("TRUNCATE projects, users RESTART IDENTITY CASCADE"))
    database.dispose()


def others_in_transaction(db: Database) -> list[tuple[str, str]]:
    """Other sessions on this database that are inside a transaction (or running a query)."""
    query = text(
        "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND (xact_start IS NOT NULL OR state = 'active')"
    )
    with db.engine.connect() as conn:
        return [(state, sql) for state, sql in conn.execute(query)]


def start_download(base: str, path: str, token: str) -> socket.socket:
    """A raw HTTP request whose reader takes only the first bytes of the body."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(DEADLINE_SECONDS)
    sock.connect((host, int(port)))
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        "Connection: close\r\n\r\n"
    )
    sock.sendall(request.encode())
    received = b""
    while b"\r\n\r\n" not in received or len(received) < 8192:
        chunk = sock.recv(4096)
        assert chunk, f"the server closed the stream early: {received[:300]!r}"
        received += chunk
    assert received.startswith(b"HTTP/1.1 200"), received[:300]
    return sock


def wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_dropped_download_holds_no_connection_or_transaction(
    db: Database, tmp_path: object
) -> None:
    project = generate(db, COMPARISONS)
    with db.scope() as session:
        token = create_token(session, make_labeller(session, "ada", Role.ADMIN))
    settings = Settings(database_url=PG_URL, secret_key=TEST_SECRET,
                        secret_key_file=f"{tmp_path}/secret")  # fmt: skip
    app = create_app(settings)
    pool = app.state.db.engine.pool
    with live_server(settings, app) as base:
        path = f"/api/v1/projects/{project}/export?format=judgements"
        sock = start_download(base, path, token)
        assert pool.checkedout() == 1, "the stream reads from one snapshot"  # type: ignore[attr-defined]
        assert others_in_transaction(db), "the export's snapshot is open while it streams"
        sock.close()
        wait_until(lambda: pool.checkedout() == 0, "the pool to get its connection back")  # type: ignore[attr-defined]
        wait_until(lambda: not others_in_transaction(db), "the transaction to end")
    with db.scope() as session:
        assert session.scalar(select(func.count()).select_from(Export)) == 0
