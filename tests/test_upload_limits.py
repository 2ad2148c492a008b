"""Abusive request bodies: over ``ARBITER_MAX_JSON_KB`` (a batch upload:
``ARBITER_MAX_UPLOAD_MB``) a 413 before the body is read whole (declared or chunked, on every
route); a JSON nesting or line-length bomb a 422, never a 500."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Role
from app.settings import Settings
from app.web.main import create_app
from tests.clients import bearer
from tests.conftest import TEST_SECRET
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.factories_labels import make_labeller
from tests.live import live_server

MB = 1024 * 1024


@pytest.fixture
def read_log() -> list[int]:
    return []


@pytest.fixture
def small_app(tmp_path: Path, read_log: list[int]) -> Iterator[TestClient]:
    """The app with a 1 MB body limit and a test-only route that reads its body as a stream."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/unused.db", secret_key=TEST_SECRET,
                        secret_key_file=tmp_path / "k", max_json_kb=1024)  # fmt: skip
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
    assert "1024 KB" in response.json()["detail"]
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


def test_the_login_form_refuses_an_oversized_body(small_app: TestClient) -> None:
    response = small_app.post("/login", content=b"{" * (MB + 1))
    assert response.status_code == 413


@pytest.mark.parametrize("path", ["/api/v1/projects/p/assignments",
                                  "/api/v1/assignments/1/judgement"])  # fmt: skip
def test_an_oversized_body_from_no_one_is_a_401_unread(small_app: TestClient, path: str) -> None:
    """Who is asking is settled first: a stranger learns nothing about the limits."""
    response = small_app.post(path, content=b"{" * (MB + 1))
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_a_signed_in_json_body_over_the_json_limit_is_a_413(
    client: TestClient, session: Session
) -> None:
    headers = bearer(session, make_annotator(session))
    session.commit()
    body = b'{"verdict": "left", "rationale": "' + b"x" * (300 * 1024) + b'"}'
    response = client.post("/api/v1/assignments/1/judgement", content=body,
                           headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 413
    assert "ARBITER_MAX_JSON_KB" in response.json()["detail"]


def test_a_batch_upload_may_be_larger_than_the_json_limit(
    client: TestClient, session: Session
) -> None:
    """Uploads have their own limit (ARBITER_MAX_UPLOAD_MB): a 400 KB batch goes in."""
    make_project(session, name="Big")
    headers = bearer(session, make_labeller(session, "root", Role.ADMIN))
    session.commit()
    text = "".join(orjson.dumps(row).decode() + "\n" for row in native_rows(200, candidates=2))
    text += " " * (400 * 1024 - len(text))
    files = {"file": ("big.jsonl", text.encode(), "application/jsonl")}
    response = client.post("/api/v1/projects/big/batches", headers=headers, files=files)
    assert response.status_code == 201, response.text[:300]


@pytest.fixture
def roomy(settings: Settings) -> Iterator[TestClient]:
    """A client of an app whose JSON limit (64 MB) lets the bombs reach the parser."""
    app = create_app(settings.model_copy(update={"max_json_kb": 64 * 1024}))
    with TestClient(app) as c:
        yield c
    app.state.db.dispose()


@pytest.fixture
def leased(roomy: TestClient, session: Session) -> tuple[str, dict[str, str]]:
    """A live assignment's judgement URL and its annotator's bearer headers."""
    client = roomy
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
    roomy: TestClient, leased: tuple[str, dict[str, str]], bomb: bytes
) -> None:
    url, headers = leased
    response = roomy.post(url, content=bomb,
                           headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 422, response.text[:300]
    assert set(response.json()) == {"detail"}
    assert len(response.text) < 2000, "the answer does not echo the bomb"


def test_a_real_server_answers_before_the_body_is_sent(settings: Settings) -> None:
    """Only the headers of a 5 GB anonymous upload go out; the 401 comes back at once."""
    with live_server(settings) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            head = (
                f"POST /api/v1/projects/p/assignments HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Length: {5 * 1024 * MB}\r\nContent-Type: application/json\r\n\r\n"
            )
            sock.sendall(head.encode())
            answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


@pytest.mark.parametrize(("headers", "start"), [
    ({}, "The request is larger than the 1024 KB limit (ARBITER_MAX_JSON_KB); nothing was kept."),
    ({"Accept-Language": "ja"}, "リクエストが上限 1024 KB（ARBITER_MAX_JSON_KB）を超えています。"),
    ({"Cookie": "arbiter_lang=de"}, "Die Anfrage ist größer als die Grenze von 1024 KB"),
])  # fmt: skip
def test_a_page_says_why_it_refused_a_body_in_the_readers_language(
    small_app: TestClient, headers: dict[str, str], start: str
) -> None:
    response = small_app.post("/nope", content=b"x" * (2 * MB), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(start), response.text
