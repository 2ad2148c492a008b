"""Past exports can be downloaded again: the stored file, the same bytes as first handed out,
whatever happened to the labels since."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Adjudication, Comparison, Export, Verdict
from tests.clients import bearer, browser_login, soup
from tests.factories import make_admin
from tests.factories_labels import make_mixed_project


def test_an_api_download_comes_back_byte_for_byte_after_the_labels_change(
    client: TestClient, session: Session
) -> None:
    make_mixed_project(session)
    admin = make_admin(session)
    headers = bearer(session, admin)
    session.commit()
    first = client.get("/api/v1/projects/mixed/export?format=openai-dpo", headers=headers)
    assert first.status_code == 200
    (export,) = session.scalars(select(Export)).all()
    assert export.sha256 == hashlib.sha256(first.content).hexdigest()
    # Labels change after the export: a fresh one would differ, the past one does not.
    pair = session.scalars(select(Comparison).order_by(Comparison.id)).first()
    assert pair is not None
    session.add(Adjudication(comparison_id=pair.id, verdict=Verdict.BOTH_BAD))
    session.commit()
    again = client.get(f"/api/v1/projects/mixed/exports/{export.id}/file", headers=headers)
    assert again.status_code == 200 and again.content == first.content
    assert export.manifest["file"] in again.headers["content-disposition"]
    fresh = client.get("/api/v1/projects/mixed/export?format=openai-dpo", headers=headers)
    assert fresh.content != first.content
    assert client.get("/api/v1/projects/mixed/exports/999/file", headers=headers).status_code == 404
    assert client.get(f"/api/v1/projects/mixed/exports/{export.id}/file").status_code == 401


def test_a_cli_export_is_kept_and_offered_on_the_admin_page(  # type: ignore[no-untyped-def]
    arbiter, tmp_path: Path, client: TestClient, session: Session
) -> None:
    make_mixed_project(session)
    admin = make_admin(session)
    session.commit()
    out = tmp_path / "kto.jsonl"
    arbiter("export", "--project", "Mixed", "--format", "kto", "--output", str(out))
    browser_login(client, admin)
    page = soup(client.get("/admin/projects/mixed/export").text)
    link = page.find("a", string="Download again")
    assert link is not None
    again = client.get(str(link["href"]))
    assert again.status_code == 200 and again.content == out.read_bytes()
