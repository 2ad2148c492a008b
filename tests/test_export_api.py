"""The export API: a streamed download with its filename, admins only, recorded with its
manifest, the same bytes as `arbiter export`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.auth import create_token
from app.db import Database
from app.models import Export, Role
from tests.clients import login
from tests.export_helpers import rows_of
from tests.factories_labels import make_labeller, make_mixed_project

FORMATS = ["openai-dpo", "openai-sft", "nova-dpo", "kto", "trl-dpo", "judgements"]


@pytest.fixture
def admin_token(db: Database) -> str:
    with db.scope() as session:
        make_mixed_project(session)
        return create_token(session, make_labeller(session, "ada", Role.ADMIN))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def download(client: TestClient, token: str, **params: Any) -> Any:
    return client.get("/api/v1/projects/mixed/export", params=params, headers=auth(token))


def test_the_download_streams_jsonl_with_a_dated_filename(
    client: TestClient, admin_token: str
) -> None:
    response = download(client, admin_token, format="kto")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jsonl"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="mixed-kto-20')
    assert disposition.endswith('.jsonl"')
    assert len(rows_of(response.content)) == 5


def test_a_validation_split_is_named_as_such(client: TestClient, admin_token: str) -> None:
    response = download(client, admin_token, format="kto", validation_fraction=0.5,
                        split="validation")  # fmt: skip
    assert response.status_code == 200
    assert '.validation.jsonl"' in response.headers["content-disposition"]


def test_every_download_is_recorded_with_its_manifest(
    client: TestClient, admin_token: str, session: Session
) -> None:
    body = download(client, admin_token, format="trl-dpo", min_votes=1).content
    listed = client.get("/api/v1/projects/mixed/exports", headers=auth(admin_token)).json()
    (entry,) = listed["exports"]
    assert entry["sha256"] == hashlib.sha256(body).hexdigest()
    assert entry["rows"] == len(rows_of(body)) == 8
    assert entry["bytes"] == len(body)
    assert entry["exported_by"] == "ada"
    assert entry["left_out"] == {"both_bad": 1, "disputed": 1, "tie": 1}
    assert entry["params"]["min_votes"] == 1
    assert entry["warnings"] == ["1 row from prompts with tools, which this format does not carry"]
    audit = session.scalars(select(Export)).one()
    assert (audit.format, audit.row_count, audit.sha256) == ("trl-dpo", 8, entry["sha256"])
    assert audit.user_id is not None


def test_the_newest_export_is_listed_first(client: TestClient, admin_token: str) -> None:
    for fmt in ("kto", "nova-dpo"):
        download(client, admin_token, format=fmt)
    listed = client.get("/api/v1/projects/mixed/exports", headers=auth(admin_token)).json()
    assert [e["format"] for e in listed["exports"]] == ["nova-dpo", "kto"]


def test_repeated_and_typed_parameters_reach_the_export(
    client: TestClient, admin_token: str
) -> None:
    params = {"format": "judgements", "exclude_annotator": ["ann1", "ann2"], "batch": ["mixed"],
              "since": "2026-01-02T09:05:00+00:00", "until": "2026-01-03"}  # fmt: skip
    body = download(client, admin_token, **params).content
    (entry,) = client.get("/api/v1/projects/mixed/exports", headers=auth(admin_token)).json()[
        "exports"
    ]
    assert entry["params"]["exclude_annotator"] == ["ann1", "ann2"]
    assert entry["params"]["batch"] == ["mixed"]
    assert entry["params"]["since"] == "2026-01-02T09:05:00Z"
    assert entry["params"]["until"] == "2026-01-03T00:00:00Z"
    assert len(rows_of(body)) == entry["rows"] == 2, "only ann3 is left: 09:05 and 09:16"


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"format": "csv"}, 422, "unknown format 'csv'"),
        ({"format": "trl-dpo", "derive": "pairs"}, 422, "kto format only"),
        ({"format": "kto", "min_agreement": 2}, 422, "less than or equal to 1"),
        ({"format": "kto", "split": "validation"}, 422, "needs a validation_fraction"),
        ({"format": "kto", "colour": "red"}, 422, "colour"),
        ({"format": "kto", "batch": "nope"}, 400, "no batch named 'nope'"),
    ],
)
def test_bad_parameters_are_refused_before_anything_streams(
    client: TestClient, admin_token: str, params: dict[str, Any], status: int, detail: str
) -> None:
    response = download(client, admin_token, **params)
    assert response.status_code == status
    assert detail in response.text


def test_an_unknown_project_is_404(client: TestClient, admin_token: str) -> None:
    response = client.get("/api/v1/projects/nope/export?format=kto", headers=auth(admin_token))
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/export?format=kto", "/exports"])
def test_only_admins_may_export(
    client: TestClient, db: Database, admin_token: str, path: str
) -> None:
    url = "/api/v1/projects/mixed" + path
    assert client.get(url).status_code == 401
    with db.scope() as session:
        annotator_token = create_token(session, make_labeller(session, "bo"))
    assert client.get(url, headers=auth(annotator_token)).status_code == 403
    assert client.get(url, headers=auth(admin_token)).status_code == 200


def test_an_admin_session_cookie_may_export(client: TestClient, db: Database) -> None:
    with db.scope() as session:
        make_mixed_project(session)
        make_labeller(session, "ada", Role.ADMIN)
    assert login(client, "ada") == 303
    assert client.get("/api/v1/projects/mixed/export?format=kto").status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_api_gives_the_bytes_the_cli_writes(  # type: ignore[no-untyped-def]
    client: TestClient, admin_token: str, arbiter, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "out.jsonl"
    arbiter("export", "--project", "mixed", "--format", fmt, "--output", str(out))
    assert download(client, admin_token, format=fmt).content == out.read_bytes()


def test_the_api_gives_each_file_of_a_split_as_the_cli_writes_it(  # type: ignore[no-untyped-def]
    client: TestClient, admin_token: str, arbiter, tmp_path: Path
) -> None:
    out = tmp_path / "train.jsonl"
    arbiter("export", "--project", "mixed", "--format", "kto", "--derive", "pairs",
            "--validation-fraction", "0.4", "--output", str(out))  # fmt: skip
    params = {"format": "kto", "derive": "pairs", "validation_fraction": 0.4}
    train = download(client, admin_token, **params).content
    validation = download(client, admin_token, **params, split="validation").content
    assert train == out.read_bytes()
    assert validation == (tmp_path / "train.validation.jsonl").read_bytes()
    assert train and validation
