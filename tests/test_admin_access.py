"""The access matrix: every admin page refuses annotators (403) and sends anonymous visitors
to the login page; every admin API route wants an admin's token."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.auth import create_token
from app.models import Batch, Comparison
from app.settings import Settings
from app.web.main import create_app
from tests.clients import csrf_of, login
from tests.conftest import TEST_SECRET
from tests.factories import make_admin, make_annotator
from tests.factories_admin import HX, project_with_comparisons

ADMIN_PAGES = [
    ("GET", "/admin"),
    ("GET", "/admin/projects/new"),
    ("POST", "/admin/projects"),
    ("GET", "/admin/projects/{slug}"),
    ("GET", "/admin/projects/{slug}/settings"),
    ("POST", "/admin/projects/{slug}/settings"),
    ("POST", "/admin/projects/{slug}/batches"),
    ("POST", "/admin/projects/{slug}/batches/preview"),
    ("POST", "/admin/projects/{slug}/batches/{batch_id}/status"),
    ("GET", "/admin/projects/{slug}/delete"),
    ("POST", "/admin/projects/{slug}/delete"),
    ("GET", "/admin/projects/{slug}/batches/{batch_id}/delete"),
    ("POST", "/admin/projects/{slug}/batches/{batch_id}/delete"),
    ("GET", "/admin/projects/{slug}/members"),
    ("POST", "/admin/projects/{slug}/members"),
    ("POST", "/admin/projects/{slug}/members/{user_id}/remove"),
    ("GET", "/admin/projects/{slug}/dashboard"),
    ("GET", "/admin/projects/{slug}/leaderboard"),
    ("GET", "/admin/projects/{slug}/export"),
    ("GET", "/admin/projects/{slug}/export/download"),
    ("GET", "/admin/projects/{slug}/exports/{export_id}/file"),
    ("GET", "/admin/projects/{slug}/items"),
    ("GET", "/admin/projects/{slug}/items/{comparison_id}"),
    ("POST", "/admin/projects/{slug}/items/{comparison_id}/adjudication"),
    ("POST", "/admin/projects/{slug}/items/{comparison_id}/gold"),
    ("GET", "/admin/projects/{slug}/models"),
    ("POST", "/admin/projects/{slug}/models/generate"),
    ("POST", "/admin/projects/{slug}/models/judge"),
    ("GET", "/admin/people"),
    ("POST", "/admin/people"),
    ("GET", "/admin/people/{user_id}"),
    ("POST", "/admin/people/{user_id}/deactivate"),
    ("POST", "/admin/people/{user_id}/reactivate"),
    ("POST", "/admin/people/{user_id}/password"),
    ("POST", "/admin/people/{user_id}/sessions/end"),
    ("POST", "/admin/people/{user_id}/tokens"),
    ("POST", "/admin/people/{user_id}/tokens/{token_id}/revoke"),
]
#: Admin GETs that refuse an empty query (the download needs at least a format).
EMPTY_GET = {
    "/admin/projects/{slug}/export/download": 422,
    "/admin/projects/{slug}/exports/{export_id}/file": 404,
}  # none recorded yet
ADMIN_API = [
    ("POST", "/api/v1/projects"),
    ("GET", "/api/v1/projects/{slug}"),
    ("POST", "/api/v1/projects/{slug}/batches"),
    ("POST", "/api/v1/projects/{slug}/jobs"),
    ("GET", "/api/v1/projects/{slug}/jobs"),
    ("GET", "/api/v1/jobs/{job_id}"),
    ("GET", "/api/v1/projects/{slug}/judges"),
    ("GET", "/api/v1/projects/{slug}/annotators"),
    ("PUT", "/api/v1/comparisons/{comparison_id}/gold"),
    ("POST", "/api/v1/comparisons/{comparison_id}/adjudication"),
]


def _walk(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route, also inside included routers (which this FastAPI resolves lazily)."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            yield from route.effective_route_contexts()
        else:
            yield route


def _routes(prefix: str) -> set[tuple[str, str]]:
    app = create_app(Settings(secret_key=TEST_SECRET))
    return {
        (method, route.path)
        for route in _walk(app.routes)
        if getattr(route, "methods", None) and route.path.startswith(prefix)
        for method in route.methods
    }


def test_the_matrix_lists_every_admin_route() -> None:
    assert _routes("/admin") == set(ADMIN_PAGES)
    assert _routes("/api/v1") >= set(ADMIN_API)


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    project, _ = project_with_comparisons(session, 1)
    batch_id = session.query(Batch.id).filter_by(project_id=project.id).scalar()
    comparison_id = session.query(Comparison.id).filter_by(project_id=project.id).scalar()
    annotator = make_annotator(session, username="ann")
    make_admin(session, username="root")
    token = create_token(session, annotator)
    session.commit()
    ids = {"slug": project.slug, "batch_id": batch_id, "user_id": annotator.id, "token_id": 1,
           "job_id": 1, "comparison_id": comparison_id, "export_id": 1}  # fmt: skip
    return {"ids": ids, "annotator_token": token}


def _send(client: TestClient, method: str, path: str, **kw: Any) -> Any:
    return client.request(method, path, follow_redirects=False, **kw)


def _with_csrf(client: TestClient, page: str = "/login") -> None:
    client.headers["X-CSRF-Token"] = csrf_of(client.get(page).text)


WHO = ["anonymous", "annotator", "admin"]


@pytest.mark.parametrize(("method", "path"), ADMIN_PAGES)
@pytest.mark.parametrize("who", WHO)
def test_the_access_matrix(
    client: TestClient, world: dict[str, Any], who: str, method: str, path: str
) -> None:
    """Anonymous: the login page. Annotator: 403. Admin: let in (whatever the empty request
    then gets: a page, a redirect after the action, or its validation error)."""
    if who != "anonymous":
        assert login(client, "ann" if who == "annotator" else "root") == 303
        _with_csrf(client)
    url = path.format(**world["ids"])
    response = _send(client, method, url)
    if who == "anonymous":
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={url}"
    elif who == "annotator":
        assert response.status_code == 403
        page = BeautifulSoup(response.text, "html.parser")
        assert "Admins only." in page.find("main").get_text()
        assert page.select_one(".who").get_text() == "ann", "the error page knows who asks"
    else:
        assert response.status_code not in (401, 403)
        assert not response.headers.get("location", "").startswith("/login")
        if method == "GET":
            assert response.status_code == EMPTY_GET.get(path, 200)


def test_htmx_requests_of_anonymous_visitors_are_redirected_by_header(
    client: TestClient, world: dict[str, Any]
) -> None:
    response = _send(client, "GET", "/admin/people", headers=HX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login?next=/admin/people"


@pytest.mark.parametrize(("method", "path"), ADMIN_API)
def test_the_api_wants_a_token_and_refuses_an_annotators(
    client: TestClient, world: dict[str, Any], method: str, path: str
) -> None:
    url = path.format(**world["ids"])
    anonymous = _send(client, method, url)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    bearer = {"Authorization": f"Bearer {world['annotator_token']}"}
    refused = _send(client, method, url, headers=bearer)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "admins only"}
