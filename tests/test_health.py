"""`GET /healthz` tells a load balancer whether the database answers."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.settings import Settings
from app.web.main import create_app
from tests.conftest import TEST_SECRET


def test_healthz_is_200_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_healthz_is_503_when_the_database_does_not(tmp_path: Path) -> None:
    unreachable = Settings(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
        secret_key=TEST_SECRET,
    )
    with TestClient(create_app(unreachable)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
