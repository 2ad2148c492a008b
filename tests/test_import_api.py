"""The admin API's batch upload with a column mapping (form field ``map``, repeated) and
``skip_invalid``: the first 50 skipped rows and a count; a bad mapping is 422 naming ``map``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.auth import create_token
from app.models import Prompt
from tests.factories import make_admin
from tests.factories_admin import reading
from tests.factories_files import build


@pytest.fixture
def api(client: TestClient, session: Session) -> TestClient:
    token = create_token(session, make_admin(session, username="root"), "ci")
    session.commit()
    client.headers["Authorization"] = f"Bearer {token}"
    client.post("/api/v1/projects", json={"name": "P"})
    return client


def argilla(n: int, broken: set[int]) -> list[dict[str, object]]:
    return [
        {"instruction": f"Q{i}?", "chosen_response": "" if i in broken else f"good {i}",
         "rejected_response": f"bad {i}", "source": "evol"}
        for i in range(1, n + 1)
    ]  # fmt: skip


MAP = ["prompt=instruction", "chosen=chosen_response", "rejected=rejected_response"]


def test_a_mapped_parquet_upload_imports_with_its_other_columns_in_meta(
    api: TestClient,
    db,  # type: ignore[no-untyped-def]
) -> None:
    name, data = build(argilla(3, set()), "parquet", gz=True)
    response = api.post(
        "/api/v1/projects/p/batches", files={"file": (name, data)}, data={"map": MAP}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["shape"], body["counts"]["prompts"], body["skipped_rows"]) == ("trl", 3, 0)
    with reading(db) as s:
        assert {p.meta["source"] for p in s.scalars(select(Prompt))} == {"evol"}


def test_skip_invalid_reports_the_first_50_skipped_rows_and_their_count(api: TestClient) -> None:
    broken = set(range(5, 125, 2))
    name, data = build(argilla(130, broken), "csv")
    files = {"file": (name, data)}
    refused = api.post("/api/v1/projects/p/batches", files=files, data={"map": MAP})
    assert refused.status_code == 422
    assert refused.json()["error_count"] == len(broken)
    response = api.post(
        "/api/v1/projects/p/batches", files=files, data={"map": MAP, "skip_invalid": "true"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["counts"]["prompts"] == 130 - len(broken)
    assert (body["skipped_rows"], body["skipped_count"]) == (60, 60)
    assert len(body["skipped"]) == 50
    assert body["skipped"][0] == {"line": 5, "field": "chosen", "message": "must not be empty"}
    assert "60 invalid rows skipped." in body["summary"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("answer=x", "unknown field 'answer'"), ("prompt", "is not FIELD=COLUMN")],
)
def test_a_bad_mapping_is_422_naming_map(api: TestClient, value: str, expected: str) -> None:
    name, data = build(argilla(2, set()), "jsonl")
    response = api.post(
        "/api/v1/projects/p/batches", files={"file": (name, data)}, data={"map": [value]}
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("map: ")
    assert expected in response.json()["detail"]
