"""The admin API: create a project, import a batch (201 with counts or 422 with errors by
line), read a project's counts; admin tokens only; all of it in the OpenAPI schema."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from openapi_schema_validator import OAS30Validator, OAS31Validator
from sqlalchemy.orm import Session

from app.accounts.auth import create_token
from app.projects import get_project, project_summary
from tests.factories import jsonl, make_admin, native_rows
from tests.factories_admin import reading


@pytest.fixture
def api(client: TestClient, session: Session) -> TestClient:
    token = create_token(session, make_admin(session, username="root"), "ci")
    session.commit()
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_creating_a_project_returns_201_with_its_settings(api: TestClient) -> None:
    body = {"name": "Helpful answers", "overlap": 3, "guidelines": "# Be fair", "allow_tie": False,
            "rationale": "required", "rate_singletons": True}  # fmt: skip
    response = api.post("/api/v1/projects", json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["slug"] == "helpful-answers"
    assert (created["overlap"], created["allow_tie"], created["allow_both_bad"]) == (3, False, True)
    assert (created["rationale"], created["rate_singletons"]) == ("required", True)
    assert created["prompts"] == 0
    assert api.post("/api/v1/projects", json=body).status_code == 409


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x", "overlap": 0}, {"name": "x", "rationale": "maybe"},
     {"name": "x", "colour": "red"}],
)  # fmt: skip
def test_a_bad_project_body_is_422(api: TestClient, body: dict[str, object]) -> None:
    assert api.post("/api/v1/projects", json=body).status_code == 422


def test_importing_a_batch_returns_201_with_its_counts(api: TestClient, db, session) -> None:  # type: ignore[no-untyped-def]
    api.post("/api/v1/projects", json={"name": "P"})
    files = {"file": ("rows.jsonl", jsonl(native_rows(4, candidates=3)), "application/jsonl")}
    response = api.post("/api/v1/projects/p/batches", files=files, data={"name": "first"})
    assert response.status_code == 201
    out = response.json()
    assert out["counts"] == {"rows": 4, "prompts": 4, "candidates": 12, "comparisons": 12,
                             "duplicates": 0}  # fmt: skip
    assert out["batch_id"] > 0
    assert len(out["sha256"]) == 64
    again = api.post("/api/v1/projects/p/batches", files=files)
    assert again.status_code == 200
    assert again.json()["batch_id"] is None
    assert again.json()["counts"]["duplicates"] == 4


def test_a_bad_batch_is_422_with_errors_by_line_and_writes_nothing(api: TestClient) -> None:
    api.post("/api/v1/projects", json={"name": "P"})
    rows = jsonl([*native_rows(1), {"prompt": "x", "candidates": ["a"]}, "not an object"])
    response = api.post("/api/v1/projects/p/batches", files={"file": ("b.jsonl", rows)})
    assert response.status_code == 422
    body = response.json()
    assert body["error_count"] == 2
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(2, "candidates"), (3, "row")]
    assert api.get("/api/v1/projects/p").json()["prompts"] == 0


def test_a_batch_without_a_file_or_project_is_refused(api: TestClient) -> None:
    api.post("/api/v1/projects", json={"name": "P"})
    assert api.post("/api/v1/projects/p/batches", data={"name": "x"}).status_code == 422
    files = {"file": ("b.jsonl", jsonl(native_rows(1)))}
    assert api.post("/api/v1/projects/nope/batches", files=files).status_code == 404


def test_show_gives_the_same_counts_as_the_cli(api: TestClient, db) -> None:  # type: ignore[no-untyped-def]
    api.post("/api/v1/projects", json={"name": "P", "overlap": 2})
    api.post("/api/v1/projects/p/batches", files={"file": ("b.jsonl", jsonl(native_rows(3)))})
    shown = api.get("/api/v1/projects/p").json()
    with reading(db) as s:
        assert shown == project_summary(s, get_project(s, "p"))
    assert api.get("/api/v1/projects/nope").status_code == 404


def test_the_routes_are_in_the_openapi_schema_and_answers_match_it(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/projects"]) == {"post"}
    assert set(paths["/api/v1/projects/{slug}"]) == {"get"}
    upload = paths["/api/v1/projects/{slug}/batches"]["post"]
    assert {"201", "200", "422"} <= set(upload["responses"])
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert not any(p.startswith("/admin") for p in paths), "pages stay out of the schema"
    summaries = {o["operationId"]: o["summary"] for ops in paths.values() for o in ops.values()}
    assert summaries["put_gold_api_v1_comparisons__comparison_id__gold_put"] == (
        "Give the comparison a known answer"
    ), "a docstring's first clause, not 'Put Gold'"
    titled = [s for s in summaries.values() if s == s.title() and " " in s]
    assert titled == [], "no summary made of a function's name"
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    assert form == "#/components/schemas/ImportFileForm"
    assert not [n for n in schema["components"]["schemas"] if n.startswith("Body_")]

    api.post("/api/v1/projects", json={"name": "P"})
    shown = api.get("/api/v1/projects/p").json()
    component = schema["components"]["schemas"]["ProjectOut"]
    validator = OAS31Validator if schema["openapi"].startswith("3.1") else OAS30Validator
    validator({**component, "components": schema["components"]}).validate(shown)
