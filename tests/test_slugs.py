"""A slug always means its own project: a name that is another project's slug is refused, and
where older data has one, lookups by slug (API, CLI, imports, exports) find the slug's owner."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Project, Role
from app.projects import ProjectSettings, get_project, update_project
from tests.clients import bearer
from tests.conftest import Arbiter
from tests.factories import make_project
from tests.factories_labels import make_labeller


def test_a_name_that_is_another_projects_slug_is_refused(
    client: TestClient, session: Session
) -> None:
    make_project(session, name="Gamma Team")
    headers = bearer(session, make_labeller(session, "root", Role.ADMIN))
    session.commit()
    response = client.post("/api/v1/projects", json={"name": "gamma-team"}, headers=headers)
    assert response.status_code == 409
    assert "slug of project 'Gamma Team'" in response.json()["detail"]


def test_a_rename_to_another_projects_slug_is_refused(client: TestClient, session: Session) -> None:
    make_project(session, name="Gamma Team")
    other = make_project(session, name="Delta")
    session.commit()
    settings = ProjectSettings.of(other).model_copy(update={"name": "gamma-team"})
    try:
        update_project(session, other, settings)
    except Exception as exc:
        assert type(exc).__name__ == "Conflict"
    else:
        raise AssertionError("the rename went through")


def older_data(session: Session) -> tuple[Project, Project]:
    """Projects from before the rule: "Gamma Team" (gamma-team) and one *named* gamma-team
    (slug gamma-team-2); then the first one's settings are saved."""
    first = make_project(session, name="Gamma Team")
    second = Project(name="gamma-team", slug="gamma-team-2")
    session.add(second)
    session.flush()
    update_project(session, first, ProjectSettings.of(first).model_copy(update={"overlap": 2}))
    session.commit()
    return first, second


def test_a_slug_finds_its_own_project_after_a_save(client: TestClient, session: Session) -> None:
    first, second = older_data(session)
    assert get_project(session, "gamma-team").id == first.id
    assert get_project(session, "gamma-team-2").id == second.id
    headers = bearer(session, make_labeller(session, "root", Role.ADMIN))
    session.commit()
    shown = client.get("/api/v1/projects/gamma-team", headers=headers).json()
    assert (shown["name"], shown["overlap"]) == ("Gamma Team", 2)


def test_the_cli_resolves_a_slug_to_its_own_project(arbiter: Arbiter, session: Session) -> None:
    older_data(session)
    shown = json.loads(arbiter("project", "show", "gamma-team", "--json"))
    assert shown["name"] == "Gamma Team"
