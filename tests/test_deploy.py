"""docker-compose.yml and the Dockerfile, checked without a Docker engine: their wiring is
parsed, and their entrypoint command is run against the local Postgres."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import PG_URL, scratch_database
from tests.live import free_port, wait_for_health
from tests.paths import REPO

ENTRYPOINT = "arbiter db upgrade && arbiter serve --host 0.0.0.0 --port 8000"


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_runs_postgres_16_with_a_volume_and_a_healthcheck() -> None:
    db = compose()["services"]["db"]
    assert db["image"] == "postgres:16"
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose()["volumes"], "a named volume, not a bind mount"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_compose_starts_the_app_after_the_database_is_healthy() -> None:
    app = compose()["services"]["app"]
    assert app["build"] == "."
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["command"][-1] == ENTRYPOINT
    assert app["ports"] == ["8000:8000"]
    assert app["environment"]["ARBITER_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@db:5432/" in app["environment"]["ARBITER_DATABASE_URL"]


def test_dockerfile_is_slim_non_root_and_runs_the_same_entrypoint() -> None:
    lines = [ln.strip() for ln in (REPO / "Dockerfile").read_text().splitlines()]
    assert any(ln.startswith("FROM python:") and ln.endswith("-slim") for ln in lines)
    users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    cmd = next(ln for ln in lines if ln.startswith("CMD "))
    assert ENTRYPOINT in cmd
    for needed in ("app", "migrations", "templates", "static", "alembic.ini"):
        assert any(ln.startswith("COPY") and needed in ln for ln in lines), needed


def test_the_image_installs_the_built_wheel_not_an_editable_checkout() -> None:
    lines = [ln.strip() for ln in (REPO / "Dockerfile").read_text().splitlines()]
    assert next(ln for ln in lines if ln.startswith("FROM ")).endswith("AS build")
    assert any(ln.startswith("RUN pip wheel") for ln in lines)
    installs = [ln for ln in lines if ln.startswith("RUN pip install")]
    assert installs and all(".whl" in ln and " -e " not in ln for ln in installs)


def test_the_wheel_carries_templates_static_files_and_migrations(tmp_path: Path) -> None:
    """Built from this checkout, the wheel holds every resource app.RESOURCES looks for."""
    import subprocess
    import zipfile

    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
         str(tmp_path), str(REPO)], capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("arbiter-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("app/templates/base.html", "app/static/app.css", "app/static/htmx.min.js",
                   "app/alembic.ini", "app/migrations/env.py", "app/web/main.py"):  # fmt: skip
        assert needed in names, needed
    revisions = {p.name for p in (REPO / "migrations" / "versions").glob("*.py")}
    assert {
        n.rsplit("/", 1)[1] for n in names if n.startswith("app/migrations/versions/")
    } >= revisions


@pytest.mark.skipif(not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set")
def test_the_entrypoint_migrates_and_serves_against_postgres(tmp_path: Path) -> None:
    url = scratch_database("entrypoint")
    port = free_port()
    command = ENTRYPOINT.replace("--port 8000", f"--port {port}")
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "ARBITER_DATABASE_URL": url,
        "ARBITER_SECRET_KEY_FILE": str(tmp_path / "secret"),
    }
    proc = subprocess.Popen(["sh", "-c", command], env=env, cwd=tmp_path, start_new_session=True)
    try:
        status = wait_for_health(f"http://127.0.0.1:{port}/healthz", proc, deadline=60)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    assert status == 200
    assert shlex.split(command)[0] == "arbiter"
