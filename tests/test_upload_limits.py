"""Abusive request bodies: over ``ARBITER_MAX_UPLOAD_MB`` a 413 before the body is read whole
(declared or chunked, on every route); a JSON nesting or line-length bomb a 422, never a 500."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.settings import Settings
from app.web.main import create_app
from tests.clients import bearer
from tests.conftest import TEST_SECRET
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.live import live_server

MB = 1024 * 1024


@pytest.fixture
def read_log() -> list[int]:
    return []


@pytest.fixture
def small_app(tmp_path: Path, read_log: list[int]) -> Iterator[TestClient]:
    """The app with a 1 MB limit and a test-only route that reads its body as a stream."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/unused.db", secret_key=TEST_SECRET,
                        secret_key_file=tmp_path / "k", max_upload_mb=1)  # fmt: skip
    app: FastAPI = create_app(settings)

    @app.post("/api/v1/test-upload")
    async def upload(request: Request) -> dict[str, int]:
        async for chunk in request.stream():
            read_log.append(len(chunk))
        return {"bytes": sum(read_log)}

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"x" * size


def test_a_declared_length_over_the_limit_is_refused_unread(
    small_app: TestClient, read_log: list[int]
) -> None:
    response = small_app.post("/api/v1/test-upload", content=b"x" * (2 * MB))
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"]
    assert read_log == [], "the route never saw a byte"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(
    small_app: TestClient, read_log: list[int]
) -> None:
    response = small_app.post("/api/v1/test-upload", content=chunks(3 * MB))
    assert response.status_code == 413
    assert sum(read_log) <= MB, "the route stopped reading at the limit"


def test_a_body_under_the_limit_goes_through(small_app: TestClient, read_log: list[int]) -> None:
    assert small_app.post("/api/v1/test-upload", content=chunks(MB // 2)).json() == {
        "bytes": MB // 2
    }


@pytest.mark.parametrize("path", ["/login", "/api/v1/projects/p/assignments",
                                  "/api/v1/assignments/1/judgement"])  # fmt: skip
def test_every_route_refuses_an_oversized_body(small_app: TestClient, path: str) -> None:
    response = small_app.post(path, content=b"{" * (MB + 1))
    assert response.status_code == 413
    if path.startswith("/api/"):
        assert set(response.json()) == {"detail"}


@pytest.fixture
def leased(client: TestClient, session: Session) -> tuple[str, dict[str, str]]:
    """A live assignment's judgement URL and its annotator's bearer headers."""
    project = make_project(session, name="Bombs")
    import_rows(session, project, native_rows(1))
    headers = bearer(session, make_annotator(session))
    session.commit()
    lease = client.post("/api/v1/projects/bombs/assignments", headers=headers)
    assert lease.status_code == 201
    return f"/api/v1/assignments/{lease.json()['id']}/judgement", headers


BOMBS = {
    "nested arrays": b"[" * 100_000 + b"]" * 100_000,
    "nested objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "nested in a field": b'{"verdict": "left", "ratings": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
    "a 20 MB line": b'{"verdict": "left", "rationale": "' + b"x" * (20 * MB) + b'"}',
    "a 20 MB key": b'{"' + b"k" * (20 * MB) + b'": 1}',
    "a number of a million digits": b'{"verdict": "left", "strength": ' + b"9" * 1_000_000 + b"}",
}


@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
def test_json_bombs_are_a_422(
    client: TestClient, leased: tuple[str, dict[str, str]], bomb: bytes
) -> None:
    url, headers = leased
    response = client.post(url, content=bomb,
                           headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 422, response.text[:300]
    assert set(response.json()) == {"detail"}
    assert len(response.text) < 2000, "the answer does not echo the bomb"


def test_a_real_server_answers_413_before_the_body_is_sent(settings: Settings) -> None:
    """Only the headers of a 5 GB upload go out; the answer comes back at once."""
    with live_server(settings) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            head = (
                f"POST /api/v1/projects/p/assignments HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Length: {5 * 1024 * MB}\r\nContent-Type: application/json\r\n\r\n"
            )
            sock.sendall(head.encode())
            answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
