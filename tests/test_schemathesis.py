"""The OpenAPI schema of a live server, run through schemathesis with every check it has
(``--checks all``: no 500, every status and body as documented, schema-breaking data refused
and schema-keeping data accepted, …), once with an admin's token and once with an
annotator's.

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
from schemathesis.checks import CHECKS, load_all_checks, positive_data_acceptance
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

MAX_EXAMPLES = 30
SLUG = "fuzzed"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A server on a fresh SQLite database with a small project; its URL and a token per
    role."""
    path = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{path}/arbiter.db"
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.scope() as session:
        import_rows(session, make_project(session, name="Fuzzed"), native_rows(20, candidates=3))
        tokens = {
            "admin": create_token(session, make_labeller(session, "ada", Role.ADMIN)),
            "annotator": create_token(session, make_labeller(session, "ann")),
        }
    db.dispose()
    config = Settings(database_url=url, secret_key=TEST_SECRET, secret_key_file=path / "k")
    with live_server(config) as base:
        yield base, tokens


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


def test_the_live_schema_is_the_one_fuzzed(live: tuple[str, dict[str, str]]) -> None:
    base, _ = live
    served = httpx.get(f"{base}/openapi.json").json()
    assert {f"{m.upper()} {p}" for p, ms in served["paths"].items() for m in ms} == set(OPERATIONS)


load_all_checks()
ALL_CHECKS = CHECKS.get_all()
#: Operations whose bodies or parameters have rules no JSON Schema states: a schema-valid
#: request may rightly be refused 422 there, so "schema-valid data is accepted" is not asked
#: of them (every other check is).
RULES_BEYOND_THE_SCHEMA = {
    "GET /api/v1/projects/{slug}/export": "batch and annotator names must exist",
    "GET /api/v1/projects/{slug}/leaderboard": "batch and annotator names must exist",
    "POST /api/v1/projects": "a rubric aspect's min is below its max",
    "POST /api/v1/projects/{slug}/batches": "a file's rows have rules of their own (FORMATS.md)",
    "POST /api/v1/projects/{slug}/jobs": "a job's params depend on its kind",
    "POST /api/v1/assignments/{assignment_id}/judgement": "the fields depend on the kind",
}


@pytest.mark.parametrize("role", ["admin", "annotator"])
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_check_passes(label: str, role: str, live: tuple[str, dict[str, str]]) -> None:
    base, tokens = live
    operation = OPERATIONS[label]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    excluded = [positive_data_acceptance] if label in RULES_BEYOND_THE_SCHEMA else []

    @given(cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
    def conforms(case: schemathesis.Case) -> None:
        if "slug" in (case.path_parameters or {}):
            case.path_parameters["slug"] = SLUG  # type: ignore[index]
        headers = {**(case.headers or {}), "Authorization": f"Bearer {tokens[role]}"}
        case.call_and_validate(base_url=base, headers=headers, checks=ALL_CHECKS,
                               excluded_checks=excluded, timeout=30)  # fmt: skip

    conforms()


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
