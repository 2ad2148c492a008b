"""No 500 from any input: a NUL or a lone surrogate in any text field is a 422 naming the
field (in a path: 404), names over their length a 422, ids beyond the database's range a
404, JSON-array imports as strict as JSON Lines, and a 500 that does happen is JSON under
/api/ with the security headers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Batch, Prompt, Role
from app.settings import Settings
from app.web.main import create_app
from tests.clients import bearer, csrf_of
from tests.conftest import PG_URL
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.factories_admin import admin_client
from tests.factories_labels import make_labeller
from tests.live import live_server

NUL = "a\x00b"
SURROGATE = "a\ud800b"


@pytest.fixture
def admin_headers(session: Session) -> dict[str, str]:
    make_project(session, name="Target")
    headers = bearer(session, make_labeller(session, "root", Role.ADMIN))
    session.commit()
    return headers


def lease(client: TestClient, session: Session) -> tuple[str, dict[str, str]]:
    import_rows(session, make_project(session, name="Labels"), native_rows(2))
    headers = bearer(session, make_annotator(session))
    session.commit()
    got = client.post("/api/v1/projects/labels/assignments", headers=headers)
    assert got.status_code == 201, got.text
    return f"/api/v1/assignments/{got.json()['id']}/judgement", headers


def json_bytes(value: object) -> bytes:
    """JSON as a careless client writes it (a lone surrogate escaped, as json.dumps does)."""
    import json

    return json.dumps(value).encode()


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
def test_a_rationale_with_a_bad_character_is_a_422_naming_it(
    client: TestClient, session: Session, bad: str
) -> None:
    url, headers = lease(client, session)
    body = json_bytes({"verdict": "left", "rationale": bad})
    response = client.post(url, content=body,
                           headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("rationale: ")


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
def test_a_project_name_with_a_bad_character_is_a_422(
    client: TestClient, admin_headers: dict[str, str], bad: str
) -> None:
    headers = {**admin_headers, "Content-Type": "application/json"}
    response = client.post("/api/v1/projects", content=json_bytes({"name": bad}), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("name: ")


def test_an_anonymous_login_with_a_nul_is_a_422(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": NUL, "password": "x", "csrf_token": token})
    assert response.status_code == 422
    assert "username: must not contain a nul" in response.text.lower()


def test_export_parameters_with_a_nul_are_a_422(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    params = {"format": "openai-dpo", "batch": NUL}
    response = client.get("/api/v1/projects/target/export", params=params, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("batch: ")


@pytest.mark.parametrize("path", ["/api/v1/projects/a%00b", "/api/v1/projects/a%ED%A0%80b",
                                  "/admin/projects/a%00b"])  # fmt: skip
def test_a_bad_character_in_a_path_names_nothing(
    client: TestClient, admin_headers: dict[str, str], path: str
) -> None:
    response = client.get(path, headers=admin_headers)
    assert response.status_code == 404, response.text


def test_admin_forms_refuse_bad_characters(client: TestClient, session: Session) -> None:
    admin = admin_client(client, session)
    for url, data in [
        ("/admin/people", {"username": NUL, "role": "annotator"}),
        (f"/admin/people/{admin.id}/tokens", {"name": NUL}),
        ("/admin/projects", {"name": NUL}),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == 422, (url, response.text[:300])


def upload(client: TestClient, headers: dict[str, str], filename: str = "b.jsonl",
           name: str | None = None, content: bytes | None = None) -> httpx.Response:  # fmt: skip
    content = content or b"".join(orjson.dumps(r) + b"\n" for r in native_rows(2))
    data = {"name": name} if name is not None else {}
    return client.post("/api/v1/projects/target/batches", headers=headers, data=data,
                       files={"file": (filename, content, "application/jsonl")})  # fmt: skip


def test_a_batch_name_over_200_characters_is_a_422(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = upload(client, admin_headers, name="n" * 201)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "name: at most 200 characters"
    assert upload(client, admin_headers, name="n" * 200).status_code == 201


def test_a_file_name_over_500_characters_is_a_422(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = upload(client, admin_headers, filename="f" * 501 + ".jsonl")
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "file name: at most 500 characters"


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
def test_ids_beyond_the_databases_range_in_admin_paths_are_404(
    client: TestClient, session: Session, big: int
) -> None:
    admin_client(client, session)
    make_project(session, name="Target")
    session.commit()
    for method, url in [
        ("GET", f"/admin/people/{big}"),
        ("POST", f"/admin/people/{big}/deactivate"),
        ("POST", f"/admin/people/1/tokens/{big}/revoke"),
        ("POST", f"/admin/projects/target/batches/{big}/status"),
        ("POST", f"/admin/projects/target/members/{big}/remove"),
    ]:
        response = client.request(method, url, data={"status": "paused"})
        assert response.status_code == 404, (method, url, response.status_code)


ARRAY_EDGES = {
    "a number of 5,000 digits": b'[{"prompt": "q", "candidates": ["a", "b"], "meta": {"n": '
    + b"7" * 5000
    + b"}}]",
    "a lone surrogate": b'[{"prompt": "q\\ud800", "candidates": ["a", "b"]}]',
    "NaN": b'[{"prompt": "q", "candidates": ["a", "b"], "meta": {"n": NaN}}]',
    "Infinity": b'[{"prompt": "q", "candidates": ["a", "b"], "meta": {"n": -Infinity}}]',
}


@pytest.mark.parametrize("content", ARRAY_EDGES.values(), ids=ARRAY_EDGES.keys())
def test_json_array_imports_refuse_what_json_lines_refuses(
    client: TestClient, session: Session, admin_headers: dict[str, str], content: bytes
) -> None:
    response = upload(client, admin_headers, filename="rows.json", content=content)
    assert response.status_code == 422, response.text[:300]
    assert response.json()["error_count"] >= 1
    assert session.scalar(select(func.count()).select_from(Prompt)) == 0, "nothing written"


def test_a_valid_surrogate_pair_in_a_json_array_goes_in(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    content = b'[{"prompt": "smile \\ud83d\\ude00", "candidates": ["a", "b"]}]'
    response = upload(client, admin_headers, filename="rows.json", content=content)
    assert response.status_code == 201, response.text[:300]


@pytest.fixture
def failing_app(settings: Settings) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings)

    @app.get("/api/v1/test-crash")
    def crash() -> None:
        raise RuntimeError("a bug")

    @app.get("/test-crash")
    def crash_page() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.db.dispose()


def test_an_unhandled_error_is_a_json_500_with_the_security_headers(
    failing_app: TestClient,
) -> None:
    response = failing_app.get("/api/v1/test-crash")
    assert response.status_code == 500
    assert set(response.json()) == {"detail"}
    assert "a bug" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page = failing_app.get("/test-crash")
    assert page.status_code == 500 and page.headers["x-frame-options"] == "DENY"


@pytest.mark.skipif(not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set")
def test_two_identical_imports_at_once_add_the_rows_once(
    settings: Settings, session: Session, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite writers take turns already")
    make_project(session, name="Target")
    headers = bearer(session, make_labeller(session, "root", Role.ADMIN))
    session.commit()
    content = b"".join(orjson.dumps(r) + b"\n" for r in native_rows(300, candidates=3))
    answers: list[httpx.Response] = []
    with live_server(settings) as base:
        start = threading.Barrier(2)

        def send() -> None:
            with httpx.Client(base_url=base, timeout=120) as c:
                start.wait()
                answers.append(c.post("/api/v1/projects/target/batches", headers=headers,
                                      files={"file": ("same.jsonl", content)}))  # fmt: skip

        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(a.status_code for a in answers) == [200, 201], [a.text[:200] for a in answers]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Prompt)) == 300
    assert session.scalar(select(func.count()).select_from(Batch)) == 1


@pytest.mark.parametrize("body", [{"name": "P", "overlap": "3"}, {"name": "P", "overlap": True},
                                  {"name": "P", "allow_tie": "yes"},
                                  {"name": "P", "max_strength": "3"}])  # fmt: skip
def test_project_settings_take_numbers_and_switches_as_such(
    client: TestClient, admin_headers: dict[str, str], body: dict[str, object]
) -> None:
    response = client.post("/api/v1/projects", json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    field = next(k for k in body if k != "name")
    assert response.json()["detail"].startswith(f"{field}: ")


def test_a_whole_number_sent_as_a_float_is_still_a_number(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/projects", json={"name": "P", "overlap": 3.0},
                           headers=admin_headers)  # fmt: skip
    assert response.status_code == 201 and response.json()["overlap"] == 3


@pytest.mark.parametrize("body", [{"verdict": "left", "strength": True},
                                  {"verdict": "left", "strength": "1"},
                                  {"verdict": "left", "ratings": {"left": "yes"}}])  # fmt: skip
def test_a_verdict_takes_numbers_and_marks_as_such(
    client: TestClient, session: Session, body: dict[str, object]
) -> None:
    url, headers = lease(client, session)
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == 422, response.text


def test_a_bare_number_is_not_a_date(client: TestClient, admin_headers: dict[str, str]) -> None:
    params = {"format": "openai-dpo", "until": "-3548"}
    response = client.get("/api/v1/projects/target/export", params=params, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert "until" in response.json()["detail"]
