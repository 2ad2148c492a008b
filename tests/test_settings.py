"""Settings: documented, safe defaults, placeholder secrets refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings
from tests.paths import REPO


def test_the_embedded_database_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARBITER_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///./arbiter.db"
    assert settings.is_sqlite


def test_settings_come_from_arbiter_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARBITER_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("ARBITER_LEASE_SECONDS", "60")
    settings = Settings()
    assert not settings.is_sqlite
    assert settings.lease_seconds == 60


@pytest.mark.parametrize("value", ["changeme", "secret", "short-key"])
def test_a_placeholder_secret_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(secret_key=value)


def test_an_unset_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    first = Settings(secret_key_file=path).resolved_secret_key()
    again = Settings(secret_key_file=path).resolved_secret_key()
    assert first == again
    assert len(first) >= 32
    assert path.stat().st_mode & 0o077 == 0, "only the owner may read the key"


def test_every_setting_has_a_description_and_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"`ARBITER_{name.upper()}`" in readme, f"ARBITER_{name.upper()} not in README"


def test_the_readme_quick_start_has_exactly_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)$", quick, flags=re.M)
    assert commands == ["make run", "make test"]
