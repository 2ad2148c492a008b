"""The OpenAPI schema of a live server, run through schemathesis with an admin's token: no
route answers 500, whatever schema-shaped (or schema-breaking) request it gets.

Examples are bounded (``MAX_EXAMPLES`` per operation) so this runs in CI in well under two
minutes. Path slugs are pinned to the seeded project: a random slug only ever finds the 404.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy.orm import Session

from app import migrate
from app.accounts.auth import create_token
from app.db import Database
from app.models import Role
from app.settings import Settings
from app.web.main import create_app
from tests.clients import bearer
from tests.conftest import TEST_SECRET
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.factories_labels import make_labeller
from tests.live import live_server

MAX_EXAMPLES = 60
SLUG = "fuzzed"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server on a fresh SQLite database with a small project; its URL and an admin token."""
    path = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{path}/arbiter.db"
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.scope() as session:
        import_rows(session, make_project(session, name="Fuzzed"), native_rows(20, candidates=3))
        token = create_token(session, make_labeller(session, "ada", Role.ADMIN))
    db.dispose()
    config = Settings(database_url=url, secret_key=TEST_SECRET, secret_key_file=path / "k")
    with live_server(config) as base:
        yield base, token


def operations() -> dict[str, schemathesis.schemas.APIOperation]:
    """Every operation of the schema the app serves (built without connecting anywhere)."""
    app = create_app(Settings(database_url="sqlite://", secret_key=TEST_SECRET))
    loaded = schemathesis.openapi.from_dict(app.openapi())
    found = {}
    for result in loaded.get_all_operations():
        operation = result.ok()
        found[operation.label] = operation
    return found


OPERATIONS = operations()


def test_the_live_schema_is_the_one_fuzzed(live: tuple[str, str]) -> None:
    base, _ = live
    served = httpx.get(f"{base}/openapi.json").json()
    assert {f"{m.upper()} {p}" for p, ms in served["paths"].items() for m in ms} == set(OPERATIONS)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_route_answers_500(label: str, live: tuple[str, str]) -> None:
    base, token = live
    operation = OPERATIONS[label]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
    def no_500(case: schemathesis.Case) -> None:
        if "slug" in (case.path_parameters or {}):
            case.path_parameters["slug"] = SLUG  # type: ignore[index]
        headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        response = case.call(base_url=base, headers=headers, timeout=30)
        assert response.status_code < 500, f"{case.as_curl_command()}: {response.text[:500]}"

    no_500()


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_an_id_beyond_the_database_range_is_a_404(
    client: TestClient, session: Session, method: str
) -> None:
    """Found by schemathesis: 2**63 overflowed SQLite's INTEGER (Postgres: int4) into a 500."""
    headers = bearer(session, make_annotator(session))
    session.commit()
    response = client.request(method, f"/api/v1/assignments/{2**63}/judgement",
                              json={"verdict": "left"}, headers=headers)  # fmt: skip
    assert response.status_code == 404, response.text
    page = client.post(f"/projects/p/annotate/{2**63}/skip")
    assert page.status_code < 500
