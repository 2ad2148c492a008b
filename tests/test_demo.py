"""The demo's labelled project shows an admin what each page is for: agreement between
several annotators, one of them flagged for position bias, exports with rows, and a
leaderboard of three demo models."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import Database
from app.demo import seed_demo
from app.demo_labels import BIASED
from app.exports.registry import format_names
from app.models import Batch, Judgement, User
from app.projects import get_project
from app.settings import Settings
from app.stats.dashboard import build_dashboard
from tests.clients import csrf_of, soup
from tests.export_helpers import run_export


def test_the_labelled_demo_has_agreement_a_biased_annotator_exports_and_a_leaderboard(
    session: Session, settings: Settings, client: TestClient
) -> None:
    logins = seed_demo(session, settings)
    session.commit()
    project = get_project(session, "demo-labelled")
    board = build_dashboard(session, project)
    assert board.agreement.comparisons >= 25, "most pairs judged by three people"
    flagged = {r.username for r in board.annotators if r.bias.flagged}
    assert flagged == {BIASED}
    stmt = select(User.username, func.count()).join(Judgement).group_by(User.username)
    per_user = {name: n for name, n in session.execute(stmt)}
    assert len(per_user) == 4 and min(per_user.values()) >= 10
    first = session.scalar(select(func.min(Judgement.created_at)))
    made = [project.created_at, *session.scalars(select(Batch.created_at).where(
        Batch.project_id == project.id)), *session.scalars(select(User.created_at).where(
        User.username.in_(per_user)))]  # fmt: skip
    assert first is not None and all(m < first for m in made), "nothing dated after its use"
    session.commit()  # SQLite: one writer at a time, and the login writes
    admin_password = dict(logins)["admin"]
    page = client.get("/login")
    client.post("/login", data={"username": "admin", "password": admin_password,
                                "csrf_token": csrf_of(page.text)})  # fmt: skip
    dashboard = soup(client.get("/admin/projects/demo-labelled/dashboard").text)
    assert dashboard.select("svg.chart-l rect.flagged")
    export = client.get("/api/v1/projects/demo-labelled/export?format=openai-dpo")
    assert export.status_code == 200
    assert len(export.text.splitlines()) >= 20
    board = client.get("/api/v1/projects/demo-labelled/leaderboard").json()
    ranked = [row["model"] for row in board["models"]]
    assert ranked == ["demo-large", "demo-medium", "demo-small"], "the better answers' models lead"


def test_the_labelled_demos_exports_warn_of_nothing_but_novas_advice(
    session: Session, settings: Settings, db: Database
) -> None:
    seed_demo(session, settings)
    session.commit()
    found = {f: run_export(db, "demo-labelled", format=f)[1] for f in format_names()}
    assert found.pop("rubric")["rows"] == 0, "the demo asks no rubric"
    (advice,) = found.pop("nova-dpo")["warnings"]
    assert advice.endswith("AWS recommends at least 1,000 for Nova DPO")
    assert {f: m["warnings"] for f, m in found.items()} == {f: [] for f in found}
    assert min(m["rows"] for m in found.values()) >= 20
