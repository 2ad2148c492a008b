"""Who may do what: every route × anonymous, annotator, outsider (an annotator who is not a
member of the members-only project) and admin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from app.annotation.assign import next_assignment
from app.annotation.judge import ScreenVerdict, VerdictIn, record_verdict
from app.models import Project, User
from app.projects import add_member
from app.settings import Settings
from app.web.main import create_app
from tests.clients import bearer, browser_login, csrf_of
from tests.factories import import_rows, make_admin, make_annotator, make_project, native_rows

ROLES = ["anonymous", "annotator", "outsider", "admin"]
P = "/projects/closed/annotate"

# (method, path, outcome per role: anonymous, annotator, outsider, admin). {own} is an
# assignment of the caller's (the annotator's when the caller has none); {judged} one with a
# verdict. "login" is 401 for the API and a redirect to the login page for pages.
ROUTES = [
    ("GET", "/", ("login", "ok", "ok", "ok")),
    ("GET", P, ("login", "ok", "forbidden", "ok")),
    ("POST", P + "/{own}/verdict", ("login", "ok", "not_found", "ok")),
    ("POST", P + "/{own}/skip", ("login", "ok", "not_found", "ok")),
    ("POST", P + "/undo", ("login", "ok", "forbidden", "ok")),
    ("POST", "/api/v1/projects/closed/assignments", ("login", "ok", "forbidden", "ok")),
    ("POST", "/api/v1/assignments/{own}/judgement", ("login", "ok", "not_found", "ok")),
    ("DELETE", "/api/v1/assignments/{judged}/judgement", ("login", "ok", "not_found", "ok")),
    ("GET", "/login", ("ok", "ok", "ok", "ok")),
    ("POST", "/logout", ("ok", "ok", "ok", "ok")),
    ("GET", "/healthz", ("ok", "ok", "ok", "ok")),
]


@dataclass
class Caller:
    client: TestClient
    headers: dict[str, str]
    csrf: str
    own: int
    judged: int


def _assignments(session: Session, user: User, project: Project) -> tuple[int, int]:
    judged = next_assignment(session, user, project, lease_seconds=900)
    assert judged is not None
    record_verdict(session, judged, project, VerdictIn(ScreenVerdict.LEFT))
    own = next_assignment(session, user, project, lease_seconds=900)
    assert own is not None
    return own.id, judged.id


@pytest.fixture(params=ROLES)
def caller(
    request: pytest.FixtureRequest, session: Session, settings: Settings
) -> Iterator[tuple[str, Caller]]:
    project = make_project(session, name="Closed")
    import_rows(session, project, native_rows(4))
    annotator = make_annotator(session)
    add_member(session, project, annotator)
    users = {"annotator": annotator, "outsider": make_annotator(session),
             "admin": make_admin(session)}  # fmt: skip
    ids = {name: _assignments(session, u, project) for name, u in users.items()
           if name != "outsider"}  # fmt: skip
    role: str = request.param
    user = users.get(role)
    headers = bearer(session, user) if user else {}
    session.commit()
    app = create_app(settings)
    with TestClient(app) as client:
        csrf = browser_login(client, user) if user else csrf_of(client.get("/login").text)
        own, judged = ids.get(role, ids["annotator"])
        yield role, Caller(client, headers, csrf, own, judged)
    app.state.db.dispose()


def outcome(response: Response) -> str:
    location = response.headers.get("location", "")
    if response.status_code == 401 or location.startswith("/login?"):
        return "login"
    return {403: "forbidden", 404: "not_found"}.get(response.status_code) or (
        "ok" if response.status_code < 400 else str(response.status_code)
    )


@pytest.mark.parametrize(
    ("method", "path", "expected"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_access(
    caller: tuple[str, Caller], method: str, path: str, expected: tuple[str, ...]
) -> None:
    role, c = caller
    url = path.format(own=c.own, judged=c.judged)
    if url.startswith("/api/"):
        body = {"json": {"verdict": "left"}} if method == "POST" else {}
        response = c.client.request(method, url, headers=c.headers, **body)  # type: ignore[arg-type]
    else:
        form = {"verdict": "left", "csrf_token": c.csrf} if method == "POST" else None
        response = c.client.request(method, url, data=form, follow_redirects=False)
    assert outcome(response) == expected[ROLES.index(role)], response.text[:300]
